template "web" {
  destination = "/tmp/web"
  contents    = "x"
