template "a" {
  contents    = "x"
  destination = "/tmp/a"
}
