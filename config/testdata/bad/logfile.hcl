log_file {
  path                 = "/var/log/drcon.log"
  log_rotate_bytes     = -5
  log_rotate_duration  = "0s"
  log_rotate_max_files = -2
}
