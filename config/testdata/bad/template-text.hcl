template "both" {
  source      = "../good/templates/nginx.conf.tmpl"
  contents    = "x"
  destination = "/tmp/both"
}

template "neither" {
  destination = "/tmp/neither"
}

template "missing" {
  source      = "templates/does-not-exist.tmpl"
  destination = "/tmp/missing"
}

template "dir" {
  source      = "."
  destination = "/tmp/dir"
}
