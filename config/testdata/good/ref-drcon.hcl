# drcon.hcl: the DR CoN pattern in one agent.
consul {
  address = "127.0.0.1:8500"
}

# Keep Consul's catalog equal to the containers that run here.
registrator "docker" {
  host_ip = "127.0.0.1"
  filter  = { "drcon.register" = "true" }
}

# Render nginx's upstreams from the registered services.
template "nginx" {
  source      = "templates/nginx.conf.tmpl"
  destination = "/etc/nginx/conf.d/upstreams.conf"
  wait        = "1s:5s"
  # check = ... validates the candidate first: see examples/drcon.hcl.
  command     = ["nginx", "-s", "reload"]
}
