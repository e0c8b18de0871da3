#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/bench.sh stderr [MB]: stderr and syslog parsing on a Release build, on >= MB
# (default 200) of the stderr files of tests/fixtures/pg15 (all four log_line_prefix
# styles, concatenated and repeated) and of the same lines behind an RFC 3164 syslog
# header. Prints MB/s by CPU time (the machine is shared: wall time includes waiting
# for a core) and by wall time, for `pgsift parse --stats` (input, parse, classify,
# counting) and for the parse stage alone (sift-test-tool parse-count).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/bench}
mb=${1:-200}
command -v bc >/dev/null || { echo "bench: needs bc" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-bench.XXXXXX")
trap '[[ -n ${SIFT_KEEP_TMP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"' EXIT

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIFT_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target pgsift sift-test-tool >/dev/null

grow() { # UNIT OUT: repeat UNIT into OUT until it holds >= mb MB
  : >"$2"
  while (($(stat -c %s "$2") < mb * 1048576)); do cat "$1" "$1" "$1" "$1" >>"$2"; done
}
cat "$root"/tests/fixtures/pg15/*/postgresql.log >"$tmp/unit.log"
sed 's/^/Feb 11 13:15:39 db1 postgres[4242]: /' "$tmp/unit.log" >"$tmp/unit.syslog"
grow "$tmp/unit.log" "$tmp/big.log"
grow "$tmp/unit.syslog" "$tmp/big.syslog"
cat "$tmp/big.log" "$tmp/big.syslog" >/dev/null # warm the page cache

run() { # LABEL FILE CMD...
  local label=$1 bytes t0 t1 cpu wall
  bytes=$(stat -c %s "$2")
  shift 2
  t0=$(date +%s.%N)
  # (CPU time from wait4(), to the microsecond: GNU time prints hundredths, truncated)
  "$build/tests/sift-test-tool" rusage "$tmp/time" "$@" >/dev/null 2>"$tmp/err"
  t1=$(date +%s.%N)
  cpu=$(awk '{print $1 + $2}' "$tmp/time")
  cpu=$(echo "if ($cpu < 0.001) 0.001 else $cpu" | bc -l)
  wall=$(echo "$t1 - $t0" | bc -l)
  printf '%-34s %7.1f MB  cpu %6.2f s %7.1f MB/s  wall %6.2f s %7.1f MB/s\n' "$label" \
    "$(echo "$bytes / 1048576" | bc -l)" "$cpu" "$(echo "$bytes / 1048576 / $cpu" | bc -l)" \
    "$wall" "$(echo "$bytes / 1048576 / $wall" | bc -l)"
}

echo "stderr/syslog ($(git -C "$root" rev-parse --short HEAD), Release, one core)"
run "pgsift parse --stats, stderr" "$tmp/big.log" "$build/pgsift" parse --stats "$tmp/big.log"
run "parse stage, stderr" "$tmp/big.log" "$build/tests/sift-test-tool" parse-count stderr "$tmp/big.log"
run "pgsift parse --stats, syslog" "$tmp/big.syslog" "$build/pgsift" parse --stats --tz UTC "$tmp/big.syslog"
run "parse stage, syslog" "$tmp/big.syslog" "$build/tests/sift-test-tool" parse-count syslog "$tmp/big.syslog"
