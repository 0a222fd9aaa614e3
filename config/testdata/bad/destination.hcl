template "none" {
  contents = "x"
}

template "empty" {
  contents    = "x"
  destination = ""
}

template {
  contents = "unlabeled, so the destination is its name"
}
