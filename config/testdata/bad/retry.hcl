consul {
  retry {
    backoff     = "2s"
    max_backoff = "1s"
  }
}

template "web" {
  contents    = "x"
  destination = "/tmp/web"
}
