# Every key drcon knows, with a value that is not its default.
log_level        = "debug"
log_format       = "json"
pid_file         = "/run/drcon.pid"
kill_signal      = "SIGTERM"
reload_signal    = "SIGUSR1"
max_stale        = "10s"
block_query_wait = "5m"

wait {
  min = "2s"
  max = "10s"
}

status {
  address = "127.0.0.1:8090"
}

default_delimiters {
  left  = "[["
  right = "]]"
}

consul {
  address    = "127.0.0.1:8500"
  token      = "00000000-0000-0000-0000-000000000001"
  token_file = "/etc/drcon/consul.token"
  datacenter = "dc1"
  namespace  = "team-a"
  use_cache  = true

  tls {
    enabled              = true
    ca_file              = "/etc/drcon/ca.pem"
    ca_path              = "/etc/drcon/ca.d"
    cert_file            = "/etc/drcon/cert.pem"
    key_file             = "/etc/drcon/key.pem"
    server_name          = "consul.service.consul"
    insecure_skip_verify = false
  }

  retry {
    enabled     = true
    attempts    = 5
    backoff     = "500ms"
    max_backoff = "30s"
  }

  auth {
    enabled  = true
    username = "drcon"
    password = "secret"
  }
}

dedup {
  enabled = true
  prefix  = "drcon/dedup/site/"
  ttl     = "30s"
}

template "nginx" {
  source           = "templates/nginx.conf.tmpl"
  destination      = "/etc/nginx/conf.d/upstreams.conf"
  create_dest_dirs = false
  perms            = "0640"
  user             = "www-data"
  group            = "www-data"
  backup           = true
  atomic           = false

  wait {
    min = "1s"
    max = "3s"
  }

  command            = ["nginx", "-s", "reload"]
  command_timeout    = "10s"
  on_command_failure = "exit"
  check              = "nginx -t -c /etc/nginx/nginx.conf"

  left_delimiter       = "{{"
  right_delimiter      = "}}"
  error_on_missing_key = true
  function_denylist    = ["plugin", "writeToFile"]
  sandbox_path         = "/etc/nginx"
}

template "motd" {
  contents    = "Welcome to ${env("DRCON_TEST_SITE")}\n"
  destination = "/etc/motd"
  perms       = 0644
  wait        = "500ms"
  command     = "logger motd changed"
}

registrator "docker" {
  docker_host = "tcp://127.0.0.1:2376"

  docker_tls {
    ca_file   = "/etc/docker/ca.pem"
    cert_file = "/etc/docker/cert.pem"
    key_file  = "/etc/docker/key.pem"
    verify    = true
  }

  host_ip            = "127.0.0.1"
  internal           = false
  network            = "backend"
  explicit           = true
  use_ip_from_label  = "drcon.ip"
  tags               = ["drcon", "blue"]
  resync             = "1m"
  cleanup            = true
  deregister         = "on-success"
  deregister_on_exit = true
  health             = "docker"
  filter             = { "drcon.register" = "true", "com.example.team" = "" }
  address_family     = "ipv6"
}
