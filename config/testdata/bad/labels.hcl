registrator {}

template "a" "b" {
  contents    = "x"
  destination = "/tmp/a"
}

template "" {
  contents    = "x"
  destination = "/tmp/empty"
}

registrator "" {}
