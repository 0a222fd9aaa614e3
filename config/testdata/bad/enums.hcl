log_level  = "verbose"
log_format = "xml"

template "web" {
  contents           = "x"
  destination        = "/tmp/web"
  on_command_failure = "ignore"
}

registrator "docker" {
  deregister     = "never"
  health         = "consul"
  address_family = "ipv5"
}
