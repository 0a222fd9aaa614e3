# drcon.hcl: the DR CoN stack (Docker + registrator + Consul + consul-template
# + nginx) as one agent. Containers that publish a port and carry
# SERVICE_TAGS=http get an nginx virtual host named after their service:
#
#   docker run -d -p 8080:80 -l SERVICE_NAME=web -l SERVICE_TAGS=http IMAGE
#   curl -H 'Host: web' http://this-host/
#
# A service that needs a moment before it answers should say when it is
# ready, e.g. -l SERVICE_CHECK_HTTP=/health -l SERVICE_CHECK_INTERVAL=1s:
# nginx gets it once the check passes.
#
# Install: nginx.conf as /etc/nginx/nginx.conf, this file and nginx.ctmpl in
# /etc/drcon/, an empty /etc/nginx/drcon/upstreams.conf, and drcon.service.

consul {
  address = "127.0.0.1:8500"
}

# /v1/status, /healthz and /metrics, on loopback only.
status {
  address = "127.0.0.1:8090"
}

# registrator: every published port of every container becomes a Consul
# service; `docker stop` puts it in maintenance first, so that nginx stops
# sending it requests while it drains.
registrator "docker" {}

template "nginx" {
  source      = "nginx.ctmpl"
  destination = "/etc/nginx/drcon/upstreams.conf"


  # nginx -t on the configuration as it would be with the candidate live:
  # a copy of nginx.conf whose include line names the candidate. A file
  # nginx refuses never replaces the live one.
  check   = <<-EOT
    main=/etc/nginx/.drcon-check-$$.conf
    trap 'rm -f "$main"' EXIT
    sed "s#include /etc/nginx/drcon/upstreams.conf;#include $DRCON_CANDIDATE;#" /etc/nginx/nginx.conf >"$main"
    nginx -t -q -c "$main"
  EOT
  command = ["nginx", "-c", "/etc/nginx/nginx.conf", "-s", "reload"]
}
