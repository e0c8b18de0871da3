#!/usr/bin/env bash
# The README's first command, scripts/quickstart.sh, end to end: it must exit 0 (a
# '| head' under pipefail once made it die of SIGPIPE before the report), ingest the
# bundled samples, print the top statements and the newest events, and write report.html
# and report.md where it says. Builds its own Release binary in the test's directory.
# labels: slow
# timeout: 900
. "$(dirname "$0")/lib.sh"

rc=0
SIFT_QUICKSTART_BUILD_DIR=$T/release SIFT_QUICKSTART_OUT=$T PGSIFT_DB=$T/qs.db \
  "$SIFT_SOURCE_DIR/scripts/quickstart.sh" >out.txt 2>err.txt || rc=$?
expect_eq "quickstart exit code (stderr: $(tail -5 err.txt))" 0 "$rc"
out=$(cat out.txt)
expect_contains "$out" "== the slowest statements by total time"
expect_contains "$out" "FINGERPRINT"
expect_contains "$out" "== the newest events"
expect_contains "$out" "$T/report.html"
for f in report.html report.md; do
  [[ -s $T/$f ]] || fail "$f not written"
done
expect_contains "$(head -c 300 "$T/report.html")" "<!DOCTYPE html>"
expect_contains "$(cat "$T/report.md")" "| "
# Release with GCC is -O3 and optimized at link time (CMakeLists.txt, SIFT_LTO): the
# binary's build line says so, or the benchmarks measure a build users do not get.
if grep -qs 'CMAKE_C_COMPILER_ID "GNU"' "$T"/release/CMakeFiles/*/CMakeCCompiler.cmake; then
  expect_contains "$("$T/release/pgsift" version)" "build: Release, no sanitizers, lto"
fi
# Exactly once: running it again adds nothing to the store. The second run's clock is in
# 2028: the demo keeps the samples' events whatever the date (its retention).
calls() { PGSIFT_DB=$T/qs.db store_query "SELECT sum(calls) FROM query_stats"; }
before=$(calls)
SIFT_TEST_NOW=2028-06-01T00:00:00Z SIFT_QUICKSTART_BUILD_DIR=$T/release SIFT_QUICKSTART_OUT=$T \
  PGSIFT_DB=$T/qs.db "$SIFT_SOURCE_DIR/scripts/quickstart.sh" >out2.txt 2>&1 ||
  fail "second run failed"
expect_eq "calls after a second run" "$before" "$(calls)"
expect_contains "$(cat out2.txt)" "database system is shut down"
expect_not_contains "$(cat out2.txt)" "deleted as older than the retention"
((before > 0)) || fail "no calls ingested"
pass
