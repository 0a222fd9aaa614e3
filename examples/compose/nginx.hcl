# compose/nginx.hcl: the drcon inside the nginx container of
# docker-compose.yml. It renders ../nginx.ctmpl as ../drcon.hcl does on a host.

consul {
  address = "consul:8500"
}

template "nginx" {
  source      = "../nginx.ctmpl"
  destination = "/etc/nginx/drcon/upstreams.conf"
  wait        = "100ms:500ms"
  check       = <<-EOT
    main=/etc/nginx/.drcon-check-$$.conf
    trap 'rm -f "$main"' EXIT
    sed "s#include /etc/nginx/drcon/upstreams.conf;#include $DRCON_CANDIDATE;#" /etc/nginx/nginx.conf >"$main"
    nginx -t -q -c "$main"
  EOT
  command     = ["nginx", "-c", "/etc/nginx/nginx.conf", "-s", "reload"]
}
