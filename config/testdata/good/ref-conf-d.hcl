# conf.d/10-base.hcl: settings shared by every host.
log_level = "info"

consul {
  address = "127.0.0.1:8500"
  retry {
    attempts = 20 # failures before a dependency is reported failed
  }
}

status {
  address = "127.0.0.1:8090"
}

template "motd" {
  contents    = "Served by ${env("HOSTNAME")}\n"
  destination = "/etc/motd"
}
