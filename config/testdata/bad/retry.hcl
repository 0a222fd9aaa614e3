consul {
  retry {
    backoff     = "0s"
    max_backoff = "1s"
  }
}

template "web" {
  contents    = "x"
  destination = "/tmp/web"
}
