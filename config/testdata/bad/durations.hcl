max_stale        = "5"
block_query_wait = "-1s"

template "web" {
  contents        = "x"
  destination     = "/tmp/web"
  command_timeout = "fast"
}

registrator "docker" {
  resync = 30
}

template "fire-and-forget" {
  contents    = "x"
  destination = "/tmp/ff"
  exec {
    command = "true"
    timeout = "0"
  }
}
