#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `pgsift tail --once` as a cron job over a directory source, across a rotation whose old
# file is compressed between two runs: the .gz holds the tail the first run did not see,
# and the next --once run reads it (it waited for the .gz to settle after growth seen in
# the same process, so no --once run ever read it: the records were lost). The store then
# equals `pgsift ingest` of the same files. The records are a real server's csvlog
# (statement-log fixture), split at record starts.
# labels: tail
. "$(dirname "$0")/lib.sh"
need_cmd python3 gzip
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15/statement-log/postgresql.csv
[[ -f $F ]] || skip "fixtures absent"

mkdir log
python3 - "$F" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding='utf-8', errors='surrogateescape').read().split('\n')
starts = [i for i, l in enumerate(lines) if re.match(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d', l)]
a, b = starts[len(starts) // 3], starts[2 * len(starts) // 3]
def out(name, part):
    open(name, 'w', encoding='utf-8', errors='surrogateescape').write('\n'.join(part) + '\n')
out('part1.csv', lines[:a])
out('part2.csv', lines[a:b])
out('part3.csv', [l for l in lines[b:] if l] if lines[-1] == '' else lines[b:])
PY

cp part1.csv log/postgresql-2026-11-25_170000.csv
"$PGSIFT" --db t.db tail --once --format csvlog log 2>once1.err || fail "first --once run"
# The server writes on, rotates to a new file, and the old one is compressed.
cat part2.csv >>log/postgresql-2026-11-25_170000.csv
cp part3.csv log/postgresql-2026-11-25_180000.csv
gzip log/postgresql-2026-11-25_170000.csv
touch -d '2 minutes ago' log/postgresql-2026-11-25_170000.csv.gz log/postgresql-2026-11-25_180000.csv
"$PGSIFT" --db t.db tail --once --format csvlog log 2>once2.err || fail "second --once run"
"$PGSIFT" --db t.db tail --once --format csvlog log 2>once3.err || fail "third --once run"

"$PGSIFT" --db ref.db ingest --format csvlog log 2>/dev/null
records() { sqlite3 -batch -noheader "$1" "SELECT sum(count) FROM record_stats"; }
calls() { sqlite3 -batch -noheader "$1" "SELECT sum(calls) FROM query_stats WHERE phase = 'call'"; }
expect_eq "records: --once runs = one ingest" "$(records ref.db)" "$(records t.db)"
expect_eq "calls: --once runs = one ingest" "$(calls ref.db)" "$(calls t.db)"
[[ $(records t.db) -gt 100 ]] || fail "too few records ($(records t.db))"

# A file nothing parses in: its diagnosis, said once, as a warning (it said "no record
# could be parsed in ..." and then the diagnosis, whose first line says it again).
mkdir junk && printf 'this is not a postgres log\nnor is this\n' >junk/junk.log
touch -d '10 minutes ago' junk/junk.log
"$PGSIFT" --db junk.db tail --once junk 2>junk.err || true
expect_eq "nothing parsed: said once" \
  "pgsift: warning: no log record could be parsed from 'junk/junk.log' (2 lines read)" \
  "$(grep 'could be parsed' junk.err)"
expect_contains "$(cat junk.err)" "first failing lines:"
pass
