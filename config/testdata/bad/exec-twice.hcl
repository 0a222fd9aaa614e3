exec {
  command = "nginx"
}

exec {
  command = "haproxy"
}
