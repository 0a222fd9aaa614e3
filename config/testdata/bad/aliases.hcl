wait = "1s"
wait {
  min = "1s"
}

consul = "127.0.0.1:8500"

consul {
  address = "127.0.0.1:8501"
  tls {
    enabled = true
  }
  ssl {
    enabled = true
  }
}

dedup {}
deduplicate {}

template "web" {
  contents           = "x"
  destination        = "/tmp/web"
  user               = "www-data"
  uid                = 33
  function_denylist  = ["plugin"]
  function_blacklist = ["plugin"]
  command            = "true"
  exec {
    command = "false"
  }
  wait = "1s"
  wait {
    min = "2s"
  }
}
