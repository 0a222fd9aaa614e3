#!/bin/sh
# tiny plugin: echoes a JSON document describing its arguments
case "$1" in
  json) printf '{"argc":%d,"first":"%s","list":[1,2,3],"html":"<&>"}\n' "$#" "$2" ;;
  count) shift; printf '%s' "$#" ;;
  fail) echo "partial out"; echo "to stderr" >&2; exit 7 ;;
  crlf) printf 'a\r\nb\r\n\r\n' ;;
  blank) printf '   \n\t\n' ;;
  stdin) cat; printf 'EOF' ;;
  envkeys) env | cut -d= -f1 | grep -E '^(CONSUL|VAULT|NOMAD|GODEBUG|GOMAXPROCS|GOGC|COMPAT)' | sort | tr '\n' ' ' ;;
  big) i=0; while [ $i -lt 2000 ]; do printf 'line %d\n' $i; i=$((i+1)); done ;;
  *) printf 'unknown:%s' "$1" ;;
esac
