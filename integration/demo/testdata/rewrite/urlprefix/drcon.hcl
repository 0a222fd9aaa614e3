# urlprefix/drcon.hcl: one nginx site routed by tags. Start each service with
# the path prefixes it serves:
#
#   docker run -d -p 8081:80 -l SERVICE_NAME=api -l SERVICE_TAGS=urlprefix-/api IMAGE
#   docker run -d -p 8082:80 -l SERVICE_NAME=web -l SERVICE_TAGS=urlprefix-/ IMAGE
#
# and /api/... reaches api, everything else web. nginx.conf is the DR CoN
# example's (../nginx.conf).

consul {
  address = "127.0.0.1:20500"
}

status {
  address = "127.0.0.1:20090"
}

registrator "docker" {}

template "nginx" {
  source      = "nginx.ctmpl"
  destination = "/tmp/stack/nginx/drcon/upstreams.conf"
  wait        = "100ms:500ms"

  # Two services claiming one prefix make a duplicate location: nginx -t
  # refuses it and the routes stay as they were.
  check = <<-EOT
    main=/tmp/stack/nginx/.drcon-check-$$.conf
    trap 'rm -f "$main"' EXIT
    sed "s#include /tmp/stack/nginx/drcon/upstreams.conf;#include $DRCON_CANDIDATE;#" /tmp/stack/nginx/nginx.conf >"$main"
    nginx -t -q -c "$main"
  EOT
  command = ["nginx", "-c", "/tmp/stack/nginx/nginx.conf", "-s", "reload"]
}
