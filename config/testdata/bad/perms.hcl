template "a" {
  contents    = "x"
  destination = "/tmp/a"
  perms       = "0999"
}

template "b" {
  contents    = "x"
  destination = "/tmp/b"
  perms       = 8888
}

template "c" {
  contents    = "x"
  destination = "/tmp/c"
  perms       = 10000
}

template "d" {
  contents    = "x"
  destination = "/tmp/d"
  perms       = 6.44
}

template "e" {
  contents    = "x"
  destination = "/tmp/e"
  perms       = "rw-r--r--"
}

template "f" {
  contents    = "x"
  destination = "/tmp/f"
  perms       = true
}
