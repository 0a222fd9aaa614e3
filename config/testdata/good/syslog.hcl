# consul-template's syslog block: a facility turns it on.
syslog {
  facility = "local5"
  name     = "ct"
}

template {
  contents    = "x"
  destination = "/tmp/x"
}

log_file {
  path                 = "/var/log/drcon/"
  log_rotate_bytes     = 1048576
  log_rotate_duration  = "1h"
  log_rotate_max_files = -1
}
