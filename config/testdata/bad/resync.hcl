# A resync lists every container and every service: below a second it
# would keep Docker and the agent busy.
registrator "fast" {
  resync = "100ms"
}
