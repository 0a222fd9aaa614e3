pid_file = ["a", "b"]

consul {
  use_cache = "maybe"
  retry {
    attempts = 1.5
  }
}

template "web" {
  contents             = "x"
  destination          = "/tmp/web"
  backup               = "yes"
  error_on_missing_key = null
  function_denylist    = ["plugin", null]
  gid                  = "www"
}

registrator "docker" {
  tags   = { a = "b" }
  filter = ["drcon"]
}
