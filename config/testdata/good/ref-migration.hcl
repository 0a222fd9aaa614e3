# A consul-template configuration: drcon loads it unchanged.
consul {
  address = "127.0.0.1:8500"
  ssl {
    enabled = true
    verify  = false
  }
}

deduplicate {
  enabled = true
}

wait = "2s:10s"

template {
  source      = "templates/nginx.conf.tmpl"
  destination = "/etc/nginx/conf.d/upstreams.conf"
  perms       = 0644
  exec {
    command = "nginx -s reload"
  }
}
