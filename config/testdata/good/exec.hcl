# consul-template's exec mode: drcon supervises nginx, reloads it with
# SIGHUP when a template changes.
exec {
  command       = "nginx -g 'daemon off;'"
  reload_signal = "SIGHUP"
  kill_signal   = "SIGQUIT"
  kill_timeout  = "10s"
  splay         = "2s"
  enabled       = true
  timeout       = "0"

  env {
    pristine  = false
    custom    = ["MODE=exec"]
    allowlist = ["PATH", "NGINX_*"]
    denylist  = ["NGINX_SECRET"]
  }
}

template {
  source      = "upstreams.ctmpl"
  destination = "/etc/nginx/conf.d/upstreams.conf"
}
