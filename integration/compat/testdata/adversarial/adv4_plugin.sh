#!/bin/sh
case "$1" in
  args) for a in "$@"; do printf '[%s]' "$a"; done ;;
  trail) printf 'x\n\n\n' ;;
  onlynl) printf '\n\n' ;;
  stderronly) echo "err text" >&2 ;;
  fail0) echo "out"; exit 1 ;;
  fail2) exit 2 ;;
  huge) i=0; while [ $i -lt 20000 ]; do printf 'abcdefghij%d\n' $i; i=$((i+1)); done ;;
  nul) printf 'a\000b' ;;
  json) printf '{"a":1}\n\n' ;;
esac
