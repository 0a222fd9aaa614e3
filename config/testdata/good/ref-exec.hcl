# drcon as a container's main process: it renders nginx's upstreams from
# Consul, then runs nginx in the foreground and tells it of every change.
consul {
  address = "consul:8500"
}

exec {
  command       = ["nginx", "-g", "daemon off;"]
  reload_signal = "SIGHUP"  # nginx reloads its configuration
  kill_signal   = "SIGQUIT" # nginx finishes its requests, then stops
  kill_timeout  = "20s"
}

template "upstreams" {
  source      = "upstreams.ctmpl"
  destination = "/etc/nginx/conf.d/upstreams.conf"
}

# nginx serves this page from disk as it is: no reload needed.
template "maintenance" {
  source         = "maintenance.html.ctmpl"
  destination    = "/usr/share/nginx/html/maintenance.html"
  exec_on_change = "none"
}
