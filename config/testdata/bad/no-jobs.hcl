log_level = "info"
