#!/usr/bin/env bash
# Installs and starts what drcon's tests, demo and benchmarks need on a Debian
# machine, saying what it does: Debian's docker.io and nginx, a running
# dockerd, Consul v1.14.11 built from the Go module proxy (cached), and, with
# --consul-template, consul-template v0.41.1 (the oracle and baseline); with
# --haproxy, Debian's haproxy (the haproxy example's test).
# Run as root. Safe to run again: it only does what is missing.
set -euo pipefail

want_ct=0
want_haproxy=0
for a in "$@"; do
  case "$a" in
    --consul-template) want_ct=1 ;;
    --haproxy) want_haproxy=1 ;;
    *) echo "usage: $0 [--consul-template] [--haproxy]" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "$0")" && pwd)"
say() { echo "setup: $*" >&2; }

missing=()
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "$want_haproxy" = 1 ]; then
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's nginx package starts the system nginx on port 80; drcon's tests
# and demo run their own instances and never need it.
if [ -n "$(ls /run/nginx.pid 2>/dev/null)" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop nginx >/dev/null 2>&1 || true
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: /var/log/drcon-dockerd.log)"
  (setsid dockerd >/var/log/drcon-dockerd.log 2>&1 &)
  for _ in $(seq 1 150); do
    docker info >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker info >/dev/null 2>&1 || { say "dockerd did not come up; see /var/log/drcon-dockerd.log"; exit 1; }
fi

consul="$("$here/build-consul.sh")"
say "consul: $consul"

if [ "$want_ct" = 1 ]; then
  gobin="$(go env GOPATH)/bin"
  # Built as its releases are (its Makefile sets CGO_ENABLED=0), so that the
  # benchmarks compare it with drcon built the same way.
  if ! "$gobin/consul-template" -version 2>&1 | grep -q 'v0.41.1' ||
    ! go version -m "$gobin/consul-template" 2>/dev/null | grep -q 'CGO_ENABLED=0'; then
    say "installing consul-template v0.41.1 into $gobin"
    (cd / && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= go install github.com/hashicorp/consul-template@v0.41.1)
  fi
  say "consul-template: $gobin/consul-template"
fi
