wait {
  min = "10s"
  max = "2s"
}

template "a" {
  contents    = "x"
  destination = "/tmp/a"
  wait        = "10s:2s"
}

template "b" {
  contents    = "x"
  destination = "/tmp/b"
  wait {
    max = "5s"
  }
}

template "c" {
  contents    = "x"
  destination = "/tmp/c"
  wait        = "1s:2s:3s"
}
