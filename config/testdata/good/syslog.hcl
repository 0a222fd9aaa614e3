# consul-template's syslog block: a facility turns it on.
syslog {
  facility = "local5"
  name     = "ct"
}

template {
  contents    = "x"
  destination = "/tmp/x"
}
