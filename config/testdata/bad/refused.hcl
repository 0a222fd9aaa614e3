once       = true
parse_only = true

vault {
  address = "https://vault:8200"
}

nomad {}

template "web" {
  contents    = "x"
  destination = "/tmp/web"
}
