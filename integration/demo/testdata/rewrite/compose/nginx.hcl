# compose/nginx.hcl: the drcon inside the nginx container of
# docker-compose.yml. It renders ../nginx.ctmpl as ../drcon.hcl does on a
# host, and runs nginx itself (exec mode): nginx starts once its upstreams
# are in place, reloads on SIGHUP when they change, and the container ends
# when nginx does.

consul {
  address = "consul:8500"
}

exec {
  command       = ["nginx", "-c", "/tmp/stack/nginx/nginx.conf", "-g", "daemon off;"]
  reload_signal = "SIGHUP"
  kill_signal   = "SIGQUIT"
  kill_timeout  = "8s"
}

template "nginx" {
  source      = "../nginx.ctmpl"
  destination = "/tmp/stack/nginx/drcon/upstreams.conf"
  wait        = "100ms:500ms"
  check       = <<-EOT
    main=/tmp/stack/nginx/.drcon-check-$$.conf
    trap 'rm -f "$main"' EXIT
    sed "s#include /tmp/stack/nginx/drcon/upstreams.conf;#include $DRCON_CANDIDATE;#" /tmp/stack/nginx/nginx.conf >"$main"
    nginx -t -q -c "$main"
  EOT
}
