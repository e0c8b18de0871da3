#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start: install what is missing, build the Release binary and run the most
# complete job pgsift has on the bundled sample logs (tests/fixtures/pg15), then show
# the result. Safe to run again: nothing is reinstalled, the build is incremental.
# SIFT_QUICKSTART_BUILD_DIR and SIFT_QUICKSTART_OUT (where report.html/.md go) let the
# test of this script (tests/integration/t004-quickstart.sh) keep out of the checkout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SIFT_QUICKSTART_BUILD_DIR:-$root/build/release}
out=${SIFT_QUICKSTART_OUT:-$root}

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

echo "== built $pgsift"
"$pgsift" version | sed 's/^/   /'

# The bundled samples: logs a real PostgreSQL 15 server wrote (tests/fixtures/pg15).
samples=("$root"/tests/fixtures/pg15/*/postgresql.csv)
db=${PGSIFT_DB:-$PWD/pgsift.db}
echo
echo "== ingesting ${#samples[@]} sample logs into $db (exactly once: running this again adds nothing)"
# The samples were logged on 2026-11-25. A century of retention keeps them whole, so the
# demo shows the same whatever today's date (the default rolls minutes up into hours
# after 14 days and deletes events after 90: docs/store.md, "Retention and roll-up").
cfg=$out/quickstart.yaml
(umask 077 && printf 'retention: { minutes: 36500d, hours: 36500d, days: 36500d, events: 36500d }\n' > "$cfg")
"$pgsift" --db "$db" ingest --config "$cfg" --no-progress "${samples[@]}"
echo
echo "== the slowest statements by total time"
"$pgsift" --db "$db" top --limit 10
echo
echo "== the newest events"
"$pgsift" --db "$db" events --format table --limit 14

# The daily report of the day the samples were logged on, as HTML and Markdown.
day=$(head -c 10 "${samples[0]}")
"$pgsift" --db "$db" report --day "$day" --tz UTC -o "$out/report.html"
"$pgsift" --db "$db" report --day "$day" --tz UTC -o "$out/report.md"
echo
echo "== the daily report of $day (UTC):"
echo "   $out/report.html   (open it in a browser: one file, no network)"
echo "   $out/report.md     (GitHub Markdown)"
