consul {
  tls {
    ca_fil = "/etc/ca.pem"
  }
  retry {
    atempts = 3
  }
}

template "web" {
  contents    = "x"
  destinaton  = "/tmp/web"
  wait {
    minn = "1s"
  }
  exec {
    comand = "true"
  }
}

registrator "docker" {
  docker_hots = "unix:///var/run/docker.sock"
  docker_tls {
    verfy = true
  }
}
