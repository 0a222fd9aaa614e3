consul {
  address = "127.0.0.1:8500"
}

consul {
  address = "127.0.0.1:8501"
}

template "web" {
  contents    = "x"
  destination = "/tmp/web"
}
