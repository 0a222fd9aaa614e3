template "web" {
  contents    = "x"
  destination = "/tmp/web-1"
}

template "web" {
  contents    = "y"
  destination = "/tmp/web-2"
}

registrator "web" {}

template {
  contents    = "a"
  destination = "/tmp/same"
}

template {
  contents    = "b"
  destination = "/tmp/same"
}

template "other" {
  contents    = "c"
  destination = "/tmp/./web-1"
}
