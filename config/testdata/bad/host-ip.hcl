# Consul refuses an unspecified address for a service: every registration
# of these blocks would fail.
registrator "any" {
  host_ip = "0.0.0.0"
  filter  = { side = "a" }
}

registrator "any6" {
  host_ip = "::"
  filter  = { side = "b" }
}
