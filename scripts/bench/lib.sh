# SPDX-License-Identifier: MIT
# Shared by scripts/bench/*.sh: a Release build, inputs grown from the fixtures, and a
# timer that reports MB/s by CPU time (the machine may be shared: wall time includes
# waiting for a core) and by wall time, plus peak RSS, both from wait4() through
# `sift-test-tool rusage` (to the microsecond: GNU time prints hundredths, truncated).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/bench}
command -v bc >/dev/null || { echo "bench: needs bc" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-bench.XXXXXX")
trap '[[ -n ${SIFT_KEEP_TMP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"' EXIT

bench_release_build() { # [TARGET...] (default: pgsift; the timer's sift-test-tool always)
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIFT_TESTS=ON >/dev/null
  cmake --build "$build" -j2 --target sift-test-tool "${@:-pgsift}" >/dev/null
}

# bench_grow UNIT OUT MB: repeat the file UNIT into OUT until OUT holds >= MB MB.
bench_grow() {
  : >"$2"
  while (($(stat -c %s "$2") < $3 * 1048576)); do cat "$1" "$1" "$1" "$1" >>"$2"; done
}

# bench_run LABEL BYTES CMD...: run CMD (stdout and stderr to $tmp/out), print a line and
# set bench_cpu (s), bench_wall (s) and bench_rss (KB).
#
# The files and directories among CMD's arguments are read first, untimed. A warm page
# cache at the start is not enough: this project's hosts run DAMON's pageout scheme
# (/sys/kernel/mm/damon: file pages idle for a few seconds are written out, up to 128 MB
# a second), so while pgBadger ran for a minute, 20-40 MB of the 212 MB csvlog left the
# cache, and the pgsift run after it read them from disk: 0.63-0.72 s of wall time
# where a warm run takes 0.51-0.54 s (docs/performance.md, session 14).
bench_run() {
  local label=$1 bytes=$2 t0 t1 user sys a
  shift 2
  for a in "$@"; do
    if [[ -f $a ]]; then
      cat -- "$a" >/dev/null
    elif [[ -d $a ]]; then
      find "$a" -type f -exec cat -- {} + >/dev/null
    fi
  done
  t0=$(date +%s.%N)
  if ! "$build/tests/sift-test-tool" rusage "$tmp/rusage.txt" "$@" >"$tmp/out" 2>&1; then
    echo "bench: '$label' failed:" >&2
    tail -5 "$tmp/out" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  bench_wall=$(echo "$t1 - $t0" | bc -l)
  read -r user sys bench_rss <"$tmp/rusage.txt"
  bench_cpu=$(echo "c = $user + $sys; if (c < 0.001) 0.001 else c" | bc -l)
  printf '%-36s %7.1f MB  cpu %7.3f s %8.1f MB/s  wall %7.3f s %8.1f MB/s  %7d KB RSS\n' \
    "$label" "$(echo "$bytes / 1048576" | bc -l)" "$bench_cpu" \
    "$(echo "$bytes / 1048576 / $bench_cpu" | bc -l)" "$bench_wall" \
    "$(echo "$bytes / 1048576 / $bench_wall" | bc -l)" "$bench_rss"
}
