block_query_wait = "0s"

status {
  address = "8080"
}

consul {
  retry {
    backoff     = "0s"
    max_backoff = "1s"
  }
}

dedup {
  ttl = "1s"
}

template "web" {
  contents    = "x"
  destination = "/tmp/web"
}

registrator "docker" {
  host_ip = "localhost"
}
