kill_signal   = "SIGKILL"
reload_signal = "SIGBOGUS"

template "web" {
  contents    = "x"
  destination = "/tmp/web"
}
