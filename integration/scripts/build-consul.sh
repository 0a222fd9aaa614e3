#!/usr/bin/env bash
# Builds Consul (test and demo dependency only; never shipped with drcon) from
# the Go module proxy and caches the binary outside the repository, keyed by
# version. Prints the path of the binary on stdout. Safe to run repeatedly.
set -euo pipefail

version="${CONSUL_VERSION:-1.14.11}"
cache="${DRCON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drcon}"
bin="$cache/consul-$version/consul"

if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "v$version"; then
  echo "$bin"
  exit 0
fi

echo "building consul v$version into $bin (about 3 minutes on 2 cores)" >&2
mkdir -p "$cache"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/consul@v$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "go mod download of consul v$version gave no directory" >&2; exit 1; }
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
go mod edit -dropreplace=github.com/hashicorp/consul/api \
  -dropreplace=github.com/hashicorp/consul/sdk \
  -dropreplace=github.com/hashicorp/consul/proto-public
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$work/consul" .
mkdir -p "$(dirname "$bin")"
mv "$work/consul" "$bin.tmp"
mv "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
