template "web" {
  contents    = "x"
  destination = "/tmp/web"
  user        = 1e70 * 1e70
}
