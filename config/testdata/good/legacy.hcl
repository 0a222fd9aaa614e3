# Older consul-template spellings: accepted, with warnings where they change
# nothing or are deprecated.
consul = "127.0.0.1:8500"

err_on_failed_lookup = false

template {
  contents    = "{{ key \"motd\" }}"
  destination = "/tmp/drcon-legacy.txt"
  exec {
    command = ["logger", "motd"]
    enabled = false
  }
}
