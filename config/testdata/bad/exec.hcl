exec {
  command      = ["nginx", "-g", "daemon off;"]
  kill_signal  = ""
  kill_timeout = "0s"
  splay        = "soon"

  env {
    custom = ["NOEQUALS"]
  }
}
