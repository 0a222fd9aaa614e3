max_stale = "2"

template "web" {
  contents    = "x"
  destination = "/tmp/web"
  perms       = "0999"
}

registrator "docker" {
  deregister = "never"
}
