registrator "docker" {}
