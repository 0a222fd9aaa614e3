template {
  source      = "a.ctmpl"
  destination = "/tmp/a"
  command     = "nginx -t && \
                 nginx -s reload"
}
