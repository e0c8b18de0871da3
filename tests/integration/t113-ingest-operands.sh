#!/usr/bin/env bash
# pgsift ingest from outside: the order of a directory's files, the progress line on a
# terminal (it fits the terminal's width, so that redrawing it with a carriage return
# does not leave a trail of wrapped lines), and the summary.
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd sqlite3 gzip jq
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"

# Files of one directory with the same modification time (unpacked from an archive,
# copied with their times, touched): the rotation number and the date in the name say
# which is older. postgresql.csv.2.gz < postgresql.csv.1 < postgresql.csv, and
# postgresql-2026-11-24_000000.csv < ...-25_... (PostgreSQL's default log_filename).
mkdir rot dated
cp "$F"/statement-log/postgresql.csv rot/postgresql.csv.2 && gzip rot/postgresql.csv.2
cp "$F"/text-plans/postgresql.csv rot/postgresql.csv.1
cp "$F"/json-plans/postgresql.csv rot/postgresql.csv
cp "$F"/statement-log/postgresql.csv dated/postgresql-2026-11-24_000000.csv
cp "$F"/text-plans/postgresql.csv dated/postgresql-2026-11-25_000000.csv
cp "$F"/json-plans/postgresql.csv dated/postgresql-2026-11-26_000000.csv
touch -d '2026-11-26 00:00:00' rot/* dated/*
"$PGSIFT" -q --db rot.db ingest rot
expect_eq "rotated names, same mtime: oldest first" \
  "rot/postgresql.csv.2.gz rot/postgresql.csv.1 rot/postgresql.csv" \
  "$(PGSIFT_DB=rot.db store_query "SELECT group_concat(name, ' ') FROM (SELECT name FROM sources ORDER BY id)")"
"$PGSIFT" -q --db dated.db ingest dated
expect_eq "dated names, same mtime: oldest first" \
  "dated/postgresql-2026-11-24_000000.csv dated/postgresql-2026-11-25_000000.csv dated/postgresql-2026-11-26_000000.csv" \
  "$(PGSIFT_DB=dated.db store_query "SELECT group_concat(name, ' ') FROM (SELECT name FROM sources ORDER BY id)")"
# logrotate's dateext: the live file is the newest.
mkdir ext
cp "$F"/statement-log/postgresql.csv ext/postgresql.csv-20261124
cp "$F"/text-plans/postgresql.csv ext/postgresql.csv-20261125 && gzip ext/postgresql.csv-20261125
cp "$F"/json-plans/postgresql.csv ext/postgresql.csv
touch -d '2026-11-26 00:00:00' ext/*
"$PGSIFT" -q --db ext.db ingest ext
expect_eq "dateext names, same mtime: oldest first" \
  "ext/postgresql.csv-20261124 ext/postgresql.csv-20261125.gz ext/postgresql.csv" \
  "$(PGSIFT_DB=ext.db store_query "SELECT group_concat(name, ' ') FROM (SELECT name FROM sources ORDER BY id)")"
# The modification time still comes first.
touch -d '2026-11-24 00:00:00' dated/postgresql-2026-11-26_000000.csv
"$PGSIFT" -q --db dated2.db ingest dated
expect_eq "older mtime first" "dated/postgresql-2026-11-26_000000.csv" \
  "$(PGSIFT_DB=dated2.db store_query "SELECT name FROM sources ORDER BY id LIMIT 1")"

# The progress line on an 80-column terminal (script(1) gives a pseudo-terminal): every
# drawing fits in 79 columns, long file names included, and it is cleared before the
# summary.
if command -v script >/dev/null; then
  script -qec "stty cols 80; '$PGSIFT' --db tty.db ingest dated" /dev/null >tty.out </dev/null
  draws=$(tr '\r' '\n' <tty.out | sed 's/\x1b\[K//g' | grep 'ingesting' || true)
  [[ -n $draws ]] || fail "no progress line on a terminal: $(cat -v tty.out)"
  long=$(awk 'length($0) > 79' <<<"$draws")
  [[ -z $long ]] || fail "progress lines wider than the terminal: $long"
  expect_contains "$(cat tty.out)" "pgsift: ingested "
  # TERM=dumb: no escape sequences (the line is cleared with spaces).
  TERM=dumb script -qec "stty cols 80; TERM=dumb '$PGSIFT' --db dumb.db ingest dated" /dev/null >dumb.out </dev/null
  expect_contains "$(tr '\r' '\n' <dumb.out)" "ingesting 0/3"
  if grep -q $'\x1b' dumb.out; then fail "escape sequences with TERM=dumb: $(cat -v dumb.out)"; fi
fi
# A source that cannot be read is an error for that source: the others are still read
# and committed, the summary is printed, and the exit code is 1 (environment failure).
cp "$F"/statement-log/postgresql.csv good.csv
expect_exit 1 "$PGSIFT" --db partial.db ingest good.csv missing.csv 'nomatch*.csv'
expect_eq "the readable file is ingested" "good.csv" \
  "$(PGSIFT_DB=partial.db store_query "SELECT group_concat(name) FROM sources")"
"$PGSIFT" --db partial2.db ingest good.csv missing.csv 2>partial.err || true
expect_contains "$(cat partial.err)" "pgsift: cannot open 'missing.csv': No such file or directory"
expect_contains "$(cat partial.err)" "pgsift: ingested "
expect_contains "$(cat partial.err)" "1 source could not be read"
# A server that logs to stderr, csvlog and jsonlog leaves three files of each name, with
# the same records: of a directory or a glob only the csvlog is read (it counted every
# record three times), and that is said; a file named on its own is always read.
mkdir -p dest
for f in postgresql.log postgresql.csv postgresql.json; do
  cp "$F/text-plans/$f" dest/$f
  cp "$F/statement-log/$f" dest/$f.1
done
"$PGSIFT" --db dest.db ingest dest 2>dest.err
expect_contains "$(cat dest.err)" "skipping 'dest/postgresql."
expect_contains "$(cat dest.err)" "4 files skipped in all"
expect_eq "of each name, the csvlog" "dest/postgresql.csv dest/postgresql.csv.1" \
  "$(PGSIFT_DB=dest.db store_query "SELECT group_concat(name, ' ') FROM (SELECT name FROM sources ORDER BY name)")"
"$PGSIFT" -q --db dest-ref.db ingest "$F"/text-plans/postgresql.csv "$F"/statement-log/postgresql.csv
counts='SELECT sum(count) FROM record_stats'
expect_eq "records as in the csvlogs alone" "$(PGSIFT_DB=dest-ref.db store_query "$counts")" \
  "$(PGSIFT_DB=dest.db store_query "$counts")"
"$PGSIFT" -q --db dest-glob.db ingest 'dest/*.json*' 'dest/*.log*'
expect_eq "a glob without the csvlogs: the jsonlogs" "dest/postgresql.json dest/postgresql.json.1" \
  "$(PGSIFT_DB=dest-glob.db store_query "SELECT group_concat(name, ' ') FROM (SELECT name FROM sources ORDER BY name)")"
# Half way through a logrotate (x.csv renamed, x.log not yet), the live stderr file is
# still the twin of the rotated csvlog (it was read whole: every record twice).
mkdir -p mid && cp "$F"/statement-log/postgresql.csv mid/x.csv && cp "$F"/statement-log/postgresql.log mid/x.log
"$PGSIFT" -q --db mid.db ingest mid
mv mid/x.csv mid/x.csv.1
"$PGSIFT" -q --db mid.db ingest mid
mv mid/x.log mid/x.log.1 && gzip mid/x.csv.1
"$PGSIFT" -q --db mid.db ingest mid
"$PGSIFT" -q --db mid-ref.db ingest "$F"/statement-log/postgresql.csv
expect_eq "mid-rotation: the csvlog alone" "$(PGSIFT_DB=mid-ref.db store_query "$counts")" \
  "$(PGSIFT_DB=mid.db store_query "$counts")"
# ...but a csvlog rotated long before the live stderr file was written (the server logs
# to stderr alone now) holds other records: the stderr file is read.
mkdir -p old && cp "$F"/statement-log/postgresql.csv old/x.csv.3 && cp "$F"/text-plans/postgresql.log old/x.log
touch -d '2026-01-01 00:00' old/x.csv.3
"$PGSIFT" -q --db old.db ingest old
expect_eq "an old rotated csvlog is no twin" "old/x.csv.3 old/x.log" \
  "$(PGSIFT_DB=old.db store_query "SELECT group_concat(name, ' ') FROM (SELECT name FROM sources ORDER BY name)")"
# A log_filename without ".log": PostgreSQL appends ".csv" (pg-Mon beside pg-Mon.csv).
mkdir -p noext && cp "$F"/statement-log/postgresql.csv noext/pg-Mon.csv && cp "$F"/statement-log/postgresql.log noext/pg-Mon
"$PGSIFT" -q --db noext.db ingest noext
expect_eq "no extension: the csvlog alone" "noext/pg-Mon.csv" \
  "$(PGSIFT_DB=noext.db store_query 'SELECT group_concat(name) FROM sources')"

# pgsift status (and tail, which scans directories the same way) lists the csvlogs alone.
expect_eq "status of the directory" "dest/postgresql.csv dest/postgresql.csv.1" \
  "$("$PGSIFT" --db dest.db status --format json dest | jq -r '[.files[].file] | sort | join(" ")')"
"$PGSIFT" -q --db dest.db ingest dest/postgresql.log
expect_eq "named: read" 3 "$(PGSIFT_DB=dest.db store_query 'SELECT count(*) FROM sources')"

# A file listed by a glob and rotated away before it is read (here while the run waits
# on a named pipe): a note, not an error (cron would mail every rotation); its stream is
# read under its new name next time.
mkdir -p race && cp "$F"/text-plans/postgresql.csv race/postgresql.csv
mkfifo race.fifo
rc=0
"$PGSIFT" --db race.db ingest race.fifo 'race/*.csv' 2>race.err &
ingest_pid=$!
wait_for 10 test -s race.err # the note on the named pipe: the glob is expanded
mv race/postgresql.csv race/postgresql.csv.1
cat "$F"/statement-log/postgresql.csv >race.fifo
wait "$ingest_pid" || rc=$?
expect_eq "exit code" 0 "$rc"
expect_contains "$(cat race.err)" "'race/postgresql.csv' is gone since it was listed (rotated?)"
"$PGSIFT" -q --db race.db ingest 'race/*.csv*'
expect_eq "read next time" "race/postgresql.csv.1" \
  "$(PGSIFT_DB=race.db store_query 'SELECT group_concat(name) FROM sources')"

# Unreadable files and directories (permissions do not stop root: as another user).
if ((EUID != 0)); then
  mkdir -p perm/locked && cp good.csv perm/a.csv && cp "$F"/text-plans/postgresql.csv perm/b.csv
  cp "$F"/json-plans/postgresql.csv perm/locked/c.csv
  touch -d '2026-11-24 00:00' perm/a.csv; touch -d '2026-11-25 00:00' perm/b.csv
  chmod 000 perm/locked perm/a.csv
  expect_exit 1 "$PGSIFT" -q --db perm.db ingest perm
  chmod 700 perm/locked; chmod 600 perm/a.csv
  expect_eq "readable files ingested" "perm/b.csv" \
    "$(PGSIFT_DB=perm.db store_query "SELECT group_concat(name) FROM sources")"
fi
pass
