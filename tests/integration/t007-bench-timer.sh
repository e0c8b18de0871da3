#!/usr/bin/env bash
# The benchmarks' timer (`sift-test-tool rusage`, scripts/bench/lib.sh, docs/performance.md
# session 12): user and system CPU seconds to the microsecond and peak RSS in KiB, from
# wait4(), and the command's exit status passed on. A busy loop must show its CPU. And
# `sift-test-tool cores`, which the ingest benchmark prints beside the -j 2 goal.
. "$(dirname "$0")/lib.sh"

"$SIFT_TEST_TOOL" rusage ru.txt sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done'
read -r user sys rss <ru.txt
[[ $user =~ ^[0-9]+\.[0-9]{6}$ && $sys =~ ^[0-9]+\.[0-9]{6}$ ]] ||
  fail "CPU times not in seconds to the microsecond: '$user' '$sys'"
awk -v u="$user" 'BEGIN { exit !(u > 0.02) }' || fail "busy loop's user time: $user s"
[[ $rss =~ ^[0-9]+$ ]] && ((rss > 100)) || fail "peak RSS: '$rss' KiB"

expect_exit 3 "$SIFT_TEST_TOOL" rusage ru.txt sh -c 'exit 3'
expect_exit 137 "$SIFT_TEST_TOOL" rusage ru.txt sh -c 'kill -9 $$' # 128 + SIGKILL
expect_exit 127 "$SIFT_TEST_TOOL" rusage ru.txt "$T/no-such-command"
expect_exit 2 "$SIFT_TEST_TOOL" rusage ru.txt

# What two threads get out of two CPUs (the -j 2 goal's context in the ingest benchmark):
# "scaling S alone A ms both B ms", S = 2 A / B, from medians of rounds of a loop that
# takes some milliseconds alone; two threads never do four times the work of one.
out=$("$SIFT_TEST_TOOL" cores 3)
[[ $out =~ ^scaling\ ([0-9]+\.[0-9]{2})\ alone\ ([0-9]+\.[0-9])\ ms\ both\ ([0-9]+\.[0-9])\ ms$ ]] ||
  fail "cores: '$out'"
awk -v s="${BASH_REMATCH[1]}" -v a="${BASH_REMATCH[2]}" -v b="${BASH_REMATCH[3]}" \
  'BEGIN { exit !(a > 1 && b > 1 && s > 0.3 && s < 4 && (s - 2 * a / b) ^ 2 < 0.01) }' ||
  fail "cores: implausible '$out'"
expect_exit 2 "$SIFT_TEST_TOOL" cores 0
pass
