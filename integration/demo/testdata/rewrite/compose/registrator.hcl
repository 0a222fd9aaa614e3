# compose/registrator.hcl: the drcon container of docker-compose.yml. It
# registers the containers of the compose network at their own addresses,
# which the nginx container reaches on that network.

consul {
  address = "consul:8500"
}

registrator "docker" {
  internal = true
}
