# A consul-template v0.41 configuration, loaded unchanged.
template_error_fatal = true
err_on_failed_lookup = true
parse_only           = false
consul {
  address = "127.0.0.1:8500"
  token   = "abcd"

  ssl {
    enabled = true
    verify  = false
    ca_cert = "/etc/consul/ca.pem"
    cert    = "/etc/consul/cert.pem"
    key     = "/etc/consul/key.pem"
  }

  retry {
    attempts    = 3
    backoff     = "1s"
    max_backoff = "10s"
  }

  transport {
    dial_keep_alive = "10s"
  }
}

deduplicate {
  prefix    = "consul-template/dedup/"
  max_stale = "2s"
}

wait = "2s:10s"

log_level     = "WARN"
reload_signal = "SIGHUP"
kill_signal   = "SIGINT"

template {
  source      = "templates/nginx.conf.tmpl"
  destination = "/etc/nginx/conf.d/upstreams.conf"
  perms       = 0644
  uid         = 33
  gid         = 33
  error_fatal = false

  exec {
    command     = "nginx -s reload"
    timeout     = "15s"
    kill_signal = "SIGTERM"
    env {
      whitelist = ["PATH", "NGINX_*"]
      denylist  = ["NGINX_SECRET"]
      custom    = ["RELOADED_BY=drcon"]
    }
  }
}

template {
  source             = "templates/index.html.tmpl"
  destination        = "/var/www/index.html"
  command            = ["touch", "/var/www/.rendered"]
  function_blacklist = ["plugin"]
  wait {
    min = "1s"
  }
}
