#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start: install what is missing, build the Release binary and run the most
# complete job pgsift has on the bundled sample logs (tests/fixtures/pg15), then show
# the result. Safe to run again: nothing is reinstalled, the build is incremental.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/release

"$root/scripts/install-deps.sh" build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIFT_TESTS=OFF &&
       cmake --build "$build" -j "$(nproc)"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "quickstart: the build failed (output above)" >&2
  exit 1
fi
pgsift=$build/pgsift

echo "== built $("$pgsift" version | head -n 1) at $pgsift"
"$pgsift" version | sed 's/^/   /'

# The daily report of the bundled samples (needs `pgsift ingest`): every run's csvlog
# into a fresh store, then the day they were logged on, as HTML and Markdown.
if "$pgsift" help ingest >/dev/null 2>&1; then
  db=$build/quickstart.db
  rm -f "$db" "$db"-*
  samples=("$root"/tests/fixtures/pg15/*/postgresql.csv)
  "$pgsift" --db "$db" ingest "${samples[@]}" >/dev/null
  day=$(head -c 10 "${samples[0]}")
  "$pgsift" --db "$db" report --day "$day" --tz UTC -o "$root/report.html"
  "$pgsift" --db "$db" report --day "$day" --tz UTC -o "$root/report.md"
  echo "== report of the ${#samples[@]} bundled sample logs ($day, UTC):"
  echo "   $root/report.html   (open it in a browser; one file, no network)"
  echo "   $root/report.md     (GitHub Markdown)"
fi
