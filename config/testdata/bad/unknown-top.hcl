log_levle = "debug"

templat "web" {
  contents    = "x"
  destination = "/tmp/web"
}
