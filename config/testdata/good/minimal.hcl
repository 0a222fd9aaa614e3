template "hello" {
  contents    = "hello {{ key \"greeting\" }}\n"
  destination = "/tmp/drcon-hello.txt"
}
