syslog {
  facility = "LOCAL9"
  address  = "http://logs:514"
}
