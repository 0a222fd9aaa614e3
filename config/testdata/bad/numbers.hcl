max_stale = 1e1000000

template "web" {
  contents    = "x"
  destination = "/tmp/web"
  user        = 1e-400
}
