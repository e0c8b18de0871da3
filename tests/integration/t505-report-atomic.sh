#!/usr/bin/env bash
# Report files are replaced atomically (lock file + fsync + rename, mode 0600): a reader
# polling the file while it is rewritten again and again only ever sees a whole report,
# a held lock makes the writer fail with a message naming it, and a failed write
# leaves neither a lock nor a partial file behind.
. "$(dirname "$0")/lib.sh"

gen() { "$SIFT_TEST_TOOL" report-synth "$@" 2>/dev/null; }
gen --fingerprints 50 -o small.html
gen --fingerprints 3000 -o big.html
small=$(stat -c %s small.html)
big=$(stat -c %s big.html)
[[ $small -ne $big ]] || fail "test needs two report sizes"
expect_eq "mode" 600 "$(stat -c %a small.html)"
(umask 077 && gen --fingerprints 50 -o strict.html)
expect_eq "mode under umask 077" 600 "$(stat -c %a strict.html)"
(umask 000 && gen --fingerprints 50 -o open.html)
expect_eq "mode under umask 000" 600 "$(stat -c %a open.html)"

cp small.html live.html
# Reader: every time it looks, the file is one of the two whole reports.
(
  while [[ ! -e stop ]]; do
    s=$(stat -c %s live.html 2>/dev/null || echo missing)
    if [[ $s != "$small" && $s != "$big" ]] || [[ $(tail -c 8 live.html) != "</html>" ]]; then
      echo "saw size $s" > torn
      break
    fi
  done
) &
reader=$!
for i in $(seq 1 15); do
  if ((i % 2)); then gen --fingerprints 3000 -o live.html; else gen --fingerprints 50 -o live.html; fi
done
touch stop
wait "$reader"
[[ ! -e torn ]] || fail "a reader saw a partial report: $(cat torn)"
[[ ! -e live.html.lock ]] || fail "lock left behind"

# A held lock: refused, named, the report untouched.
touch live.html.lock
before=$(md5sum < live.html)
rc=0
err=$("$SIFT_TEST_TOOL" report-synth --fingerprints 10 -o live.html 2>&1 >/dev/null) || rc=$?
expect_eq "exit with a held lock" 1 "$rc"
expect_contains "$err" "live.html.lock' exists"
expect_eq "report untouched" "$before" "$(md5sum < live.html)"
rm live.html.lock

# An unwritable target directory: an error, nothing left behind.
mkdir ro
chmod 555 ro
if [[ $(id -u) -ne 0 ]]; then
  rc=0
  "$SIFT_TEST_TOOL" report-synth --fingerprints 10 -o ro/r.html 2>/dev/null || rc=$?
  expect_eq "exit in a read-only directory" 1 "$rc"
  expect_eq "nothing written" "" "$(ls ro)"
fi
pass
