# haproxy/drcon.hcl: the DR CoN stack with haproxy in place of nginx. The
# template is the whole haproxy.cfg; haproxy -c checks each candidate before
# it replaces the live file, and a reload hands the listening sockets to new
# workers without dropping connections.

consul {
  address = "127.0.0.1:20500"
}

status {
  address = "127.0.0.1:20090"
}

registrator "docker" {}

template "haproxy" {
  source      = "haproxy.ctmpl"
  destination = "/tmp/stack/haproxy/haproxy.cfg"
  wait        = "100ms:500ms"
  check       = ["haproxy", "-c", "-q", "-f", "{{candidate}}"]
  command     = "kill -USR2 $(cat /tmp/stack/haproxy/haproxy.pid)"
}
