#!/usr/bin/env bash
# make bench: every benchmark of drcon, then a summary of their numbers.
# The integration benchmarks (integration/bench) start their own Consul,
# nginx, containers and consul-template (integration/scripts/setup.sh
# --consul-template installs what they need); the others run in-package.
set -uo pipefail
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=local
# A missing service fails a benchmark instead of skipping it silently.
export DRCON_INTEGRATION="${DRCON_INTEGRATION:-require}"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status=0
go test -run '^$' -bench . -benchtime 1x -timeout 60m ./integration/bench/ 2>&1 | tee -a "$out" || status=1
go test -run '^$' -bench . ./template ./jobs/render 2>&1 | tee -a "$out" || status=1

echo
echo "== summary: benchmark, then each metric as value unit =="
awk '/^Benchmark/ && NF > 3 {
  name = $1; sub(/-[0-9]+$/, "", name)
  line = sprintf("%-48s", name)
  for (i = 3; i < NF; i += 2) line = line "  " $i " " $(i + 1)
  print line
}' "$out"
grep -E '^(ok|FAIL|--- FAIL)' "$out"
exit "$status"
