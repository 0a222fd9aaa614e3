template "a" {
  contents    = "x"
  destination = "/tmp/a"
  command     = ["nginx", null]
}

template "b" {
  contents    = "x"
  destination = "/tmp/b"
  command     = ["", "reload"]
}

template "c" {
  contents    = "x"
  destination = "/tmp/c"
  command     = 42
}

template "d" {
  contents    = "x"
  destination = "/tmp/d"
  check       = { run = "nginx -t" }
}
