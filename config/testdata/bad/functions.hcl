pid_file = file("no-such-file.txt")

template "web" {
  contents    = env()
  destination = upper("/tmp/web")
  user        = var.user
}
