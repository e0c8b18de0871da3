#!/usr/bin/env bash
# pgsift ingest: exactly once per byte across re-runs, rotation + gzip, truncation,
# directories and globs, stdin, a file nothing parses in (exit 3, nothing consumed),
# the store's file mode.
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd sqlite3 gzip jq
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"
csv=$F/statement-log/postgresql.csv
all=$(wc -l <"$csv")

totals() { # records committed, events stored, offset(s)
  store_query "SELECT (SELECT coalesce(sum(count), 0) FROM record_stats) || ' ' ||
    (SELECT coalesce(sum(n), 0) FROM event_blocks) || ' ' || (SELECT coalesce(group_concat(offset), '') FROM sources)"
}

# Reference: the whole file in one go.
PGSIFT_DB=ref.db "$PGSIFT" -q ingest "$csv"
ref=$(PGSIFT_DB=ref.db totals)
ref_records=${ref%% *}
((ref_records > 1000)) || fail "reference ingest stored only $ref_records records"

# query_ids keeps each (fingerprint, query_id)'s calls and execute time as query_stats
# has them (schema/004); a store of version 3 gets the time on its first ingest.
# The summary line: what the run committed, as the store has it.
PGSIFT_DB=sum.db "$PGSIFT" ingest "$csv" "$F"/text-plans/postgresql.csv 2>sum.txt
want=$(PGSIFT_DB=sum.db store_query "SELECT (SELECT sum(count) FROM record_stats) || ' records from 2 sources: ' ||
  (SELECT sum(calls) FROM query_stats WHERE phase = 'call') || ' calls of ' ||
  (SELECT count(*) FROM queries) || ' fingerprints, ' ||
  (SELECT sum(n) FROM event_blocks) || ' events, 0 rejected'")
expect_contains "$(cat sum.txt)" "ingested $want ("
# Again, with an empty file beside: the two read before are unchanged, the new empty one
# is called empty (not unchanged: it was never read).
: >empty.csv
PGSIFT_DB=sum.db "$PGSIFT" ingest "$csv" "$F"/text-plans/postgresql.csv empty.csv 2>sum2.txt
expect_contains "$(cat sum2.txt)" "ingested 0 records from 0 sources"
expect_contains "$(cat sum2.txt)" "; 2 unchanged; 1 empty"
# A file nothing parses in, beside one that parses: its lines wait (nothing of it is
# stored) and the summary counts what was stored - one source, none of its rejects.
mkdir -p mixed && cp "$csv" "$F"/statement-log/pg_stat_statements.csv mixed/
PGSIFT_DB=mixed.db "$PGSIFT" ingest mixed 2>mixed.txt
expect_contains "$(cat mixed.txt)" "pgsift: warning: no log record could be parsed from 'mixed/pg_stat_statements.csv'"
expect_contains "$(cat mixed.txt)" " records from 1 source: "
expect_contains "$(cat mixed.txt)" ", 0 rejected ("
expect_eq "nothing of it stored" "1 0" \
  "$(PGSIFT_DB=mixed.db store_query "SELECT (SELECT count(*) FROM sources) || ' ' || (SELECT coalesce(sum(count), 0) FROM rejects)")"

# --progress (forced: stderr is not a terminal here): a bar with the share of the files'
# bytes and an ETA once a file is done; none of it for standard input (size unknown).
PGSIFT_DB=progress.db "$PGSIFT" ingest --progress "$F"/statement-log/postgresql.csv \
  "$F"/text-plans/postgresql.csv "$F"/json-plans/postgresql.csv 2>progress.txt
prog=$(tr '\r' '\n' <progress.txt)
expect_contains "$prog" "ingesting 2/3 postgresql.csv ["
expect_contains "$prog" ", ETA "
expect_contains "$prog" "ingesting 0/3 postgresql.csv [                    ]   0%"
prog=$(cat "$csv" | PGSIFT_DB=progress2.db "$PGSIFT" ingest --progress - 2>&1 | tr '\r' '\n')
expect_contains "$prog" "ingesting 0/1 -: "
expect_not_contains "$prog" "ETA"

qids='SELECT fingerprint, query_id, calls, total_us FROM query_ids ORDER BY 1, 2'
qids_want=$(PGSIFT_DB=ref.db store_query "SELECT fingerprint, query_id, sum(calls), sum(total_us)
  FROM query_stats WHERE phase = 'call' AND query_id <> 0 AND fingerprint <> 0
  GROUP BY 1, 2 HAVING sum(calls) > 0 ORDER BY 1, 2")
qids_ref=$(PGSIFT_DB=ref.db store_query "SELECT * FROM ($qids) WHERE calls > 0")
expect_eq "query_ids == query_stats per (fingerprint, query_id)" "$qids_want" "$qids_ref"
((${#qids_ref} > 100)) || fail "too few query_ids: $qids_ref"
cp ref.db v4.db
"$SIFT_TEST_TOOL" events-downgrade v4.db # events as rows, as version 4 had them
"$SIFT_TEST_TOOL" plan-calls-downgrade v4.db # plan records as rows (versions 4 to 6)
PGSIFT_DB=v4.db store_query "ALTER TABLE query_ids DROP COLUMN total_us; PRAGMA user_version = 4"
expect_exit 1 "$PGSIFT" -q --db v4.db top
PGSIFT_DB=v4.db "$PGSIFT" -q ingest "$csv"
# (the newest schema file's number: what an upgrade reaches)
latest=$(basename "$(ls "$SIFT_SOURCE_DIR"/schema/[0-9]*.sql | sort | tail -1)" | sed 's/_.*//; s/^0*//')
expect_eq "version 4 store upgraded" "$latest" "$(PGSIFT_DB=v4.db store_query 'PRAGMA user_version')"
# Version 8 keeps the marks of each stream's commits: an older store starts with its
# streams' newest marks (schema/008).
expect_eq "upgraded: each stream's mark kept" \
  "$(PGSIFT_DB=ref.db store_query 'SELECT id, offset, mark_len, mark_hash FROM sources ORDER BY id')" \
  "$(PGSIFT_DB=v4.db store_query 'SELECT source, offset, mark_len, mark_hash FROM source_marks ORDER BY source')"
expect_eq "execute time per query_id after the upgrade" "$(PGSIFT_DB=ref.db store_query "$qids")" \
  "$(PGSIFT_DB=v4.db store_query "$qids")"

# Version 6 packs events in blocks (schema/006): a version-5 store with events as rows
# upgrades with every event, every column, in the same order; the next ingest adds
# nothing, and events keep coming back the same with any filter.
cp ref.db v5.db
"$SIFT_TEST_TOOL" events-downgrade v5.db
"$SIFT_TEST_TOOL" plan-calls-downgrade v5.db
expect_eq "downgraded" "5 $(PGSIFT_DB=ref.db store_query 'SELECT sum(n) FROM event_blocks')" \
  "$(PGSIFT_DB=v5.db store_query "SELECT (SELECT user_version FROM pragma_user_version) || ' ' || count(*) FROM events")"
expect_exit 1 "$PGSIFT" -q --db v5.db events
PGSIFT_DB=v5.db "$PGSIFT" -q ingest "$csv"
expect_eq "version 5 store upgraded" "$latest 0" \
  "$(PGSIFT_DB=v5.db store_query "SELECT (SELECT user_version FROM pragma_user_version) || ' ' || count(*) FROM sqlite_schema WHERE name = 'events'")"
# (every column a version-5 store has: the facts of schema 17 were never in it)
expect_eq "upgraded: every event, every column" \
  "$("$SIFT_TEST_TOOL" events-dump --old-columns ref.db)" \
  "$("$SIFT_TEST_TOOL" events-dump --old-columns v5.db)"
# shellcheck disable=SC2016
old_facts='.events |= map(with_entries(select(.key | IN("estimate_kb", "wal_added",
  "wal_removed", "wal_recycled", "sync_files", "sync_longest_s", "sync_average_s",
  "tuples_dead", "index_scans", "pages_removed", "pages_remain", "pages_scanned",
  "buffer_hits", "buffer_misses", "buffer_dirtied", "read_mb_s", "write_mb_s",
  "wal_records", "wal_fpi", "wal_bytes") | not)))'
for args in "--limit 0" "--limit 5" "--kind error,connection --limit 3" "--database app --limit 0"; do
  # shellcheck disable=SC2086
  expect_eq "upgraded: pgsift events $args" \
    "$("$PGSIFT" --db ref.db events --format json $args | jq -c "$old_facts")" \
    "$("$PGSIFT" --db v5.db events --format json $args | jq -c "$old_facts")"
done
(($(PGSIFT_DB=ref.db store_query 'SELECT sum(n) FROM event_blocks') > 100)) ||
  fail "too few events to test the upgrade"
# A version-5 row whose time is text (a store edited by hand) stops the upgrade with an
# error naming the row; the store stays at version 5, unchanged.
cp ref.db v5t.db
"$SIFT_TEST_TOOL" events-downgrade v5t.db
"$SIFT_TEST_TOOL" plan-calls-downgrade v5t.db
bad_id=$(PGSIFT_DB=v5t.db store_query "SELECT id FROM events ORDER BY id LIMIT 1 OFFSET 3")
PGSIFT_DB=v5t.db store_query "UPDATE events SET ts = 'yesterday' WHERE id = $bad_id"
out=$(PGSIFT_DB=v5t.db "$PGSIFT" -q ingest "$csv" 2>&1) && fail "a text time was upgraded: $out"
expect_contains "$out" "event row $bad_id has a time (ts) that is not a number but text"
expect_eq "a failed upgrade changes nothing" "5 yesterday" \
  "$(PGSIFT_DB=v5t.db store_query "SELECT (SELECT user_version FROM pragma_user_version) || ' ' || ts FROM events WHERE id = $bad_id")"
# A damaged block is an error naming it, never a crash or a silent gap.
cp ref.db bad.db
PGSIFT_DB=bad.db store_query "UPDATE event_blocks SET data = substr(data, 1, length(data) / 2) WHERE id = 1"
out=$("$PGSIFT" --db bad.db events --limit 0 2>&1) && fail "a damaged event block was read: $out"
expect_contains "$out" "event block 1 is corrupt"

# Version 7 packs plan records per (query, database, minute) (schema/007): a version-6
# store with plan_calls rows upgrades with every record (key, time, shape, duration, and
# the ingest order of records with the same time); plans and plan changes read the same.
cp ref.db v6.db
"$SIFT_TEST_TOOL" plan-calls-downgrade v6.db
pc_ref=$("$SIFT_TEST_TOOL" plan-calls-dump ref.db)
expect_eq "downgraded plan records" "6 $(PGSIFT_DB=ref.db store_query 'SELECT sum(n) FROM plan_call_blocks')" \
  "$(PGSIFT_DB=v6.db store_query "SELECT (SELECT user_version FROM pragma_user_version) || ' ' || count(*) FROM plan_calls")"
expect_eq "downgraded: same plan records" "$pc_ref" "$("$SIFT_TEST_TOOL" plan-calls-dump v6.db)"
PGSIFT_DB=v6.db "$PGSIFT" -q ingest "$csv"
expect_eq "version 6 store upgraded" "$latest 0" \
  "$(PGSIFT_DB=v6.db store_query "SELECT (SELECT user_version FROM pragma_user_version) || ' ' || count(*) FROM sqlite_schema WHERE name = 'plan_calls'")"
expect_eq "upgraded: every plan record" "$pc_ref" "$("$SIFT_TEST_TOOL" plan-calls-dump v6.db)"
(($(printf "%s\n" "$pc_ref" | wc -l) >= 10)) || fail "too few plan records to test the upgrade"
expect_eq "upgraded: pgsift plans --changes" "$("$PGSIFT" --db ref.db plans --changes --format json)" \
  "$("$PGSIFT" --db v6.db plans --changes --format json)"

# The store is created 0600 whatever the umask, WAL side files too.
(umask 000 && "$PGSIFT" -q --db mode.db ingest "$csv")
expect_eq "store mode" 600 "$(stat -c %a mode.db)"
for f in mode.db-wal mode.db-shm; do
  [[ ! -e $f ]] || expect_eq "$f mode" 600 "$(stat -c %a "$f")"
done
# An empty file made by someone else (touch, an installer) becomes a 0600 store, said;
# a store with data keeps the mode its owner gave it.
(umask 022 && : >touched.db)
err=$("$PGSIFT" --db touched.db ingest "$csv" 2>&1)
expect_eq "an empty file made a store: mode" 600 "$(stat -c %a touched.db)"
expect_contains "$err" "store 'touched.db' was an empty file of mode 0644: now 0600"
chmod 640 touched.db
"$PGSIFT" -q --db touched.db ingest "$csv"
expect_eq "a store's own mode kept" 640 "$(stat -c %a touched.db)"

# Re-ingesting the same file changes nothing.
PGSIFT_DB=again.db "$PGSIFT" -q ingest "$csv"
PGSIFT_DB=again.db "$PGSIFT" -q ingest "$csv"
expect_eq "same file twice" "$ref" "$(PGSIFT_DB=again.db totals)"
expect_eq "same file twice: every statement's calls, time and percentiles" \
  "$("$PGSIFT" --db ref.db top --format json --limit 0)" "$("$PGSIFT" --db again.db top --format json --limit 0)"
expect_eq "same file twice: query_ids" "$(PGSIFT_DB=ref.db store_query "$qids")" "$(PGSIFT_DB=again.db store_query "$qids")"

# Ingested while plain and half written, then rotated and gzipped with its tail: only
# the tail is read from the .gz.
half=$(((all / 2)))
head -n "$half" "$csv" >postgresql.csv
"$PGSIFT" -q ingest postgresql.csv
first=$(totals)
expect_eq "first half offset" "$(stat -c %s postgresql.csv)" "${first##* }"
cp "$csv" postgresql.csv.1 && rm postgresql.csv
gzip -c postgresql.csv.1 >postgresql.csv.2.gz && rm postgresql.csv.1
"$PGSIFT" -q ingest postgresql.csv.2.gz
got=$(totals)
expect_eq "plain half + gzipped rest == whole" "${ref% *}" "${got% *}"
expect_eq "one source, at the end of the decoded stream" "$(stat -c %s "$csv")" "${got##* }"
expect_eq "compressed flag" 1 "$(store_query 'SELECT compressed FROM sources')"
"$PGSIFT" -q ingest postgresql.csv.2.gz
expect_eq "gz again" "$got" "$(totals)"

# A .gz cut in half: the records before the damage are stored, the cut line and the
# damage are rejects; the warning names where the damage is, the count is the summary's,
# and the damage's sample in the store is that description. A .gz of which nothing
# decodes commits nothing: its warning does not claim the store has it.
# (Quiet for longer than SIFT_HOLD_LIVE_SECONDS: what is cut stays cut.)
head -c $(($(stat -c %s postgresql.csv.2.gz) / 2)) postgresql.csv.2.gz >cut.csv.gz
touch -d '2026-01-01' cut.csv.gz
out=$(PGSIFT_DB=cut.db "$PGSIFT" ingest cut.csv.gz 2>&1)
expect_contains "$out" "damaged input: truncated gzip data at compressed byte"
expect_contains "$out" "(kept in the store with samples)"
n=$(grep -o "'cut.csv.gz': [0-9]* rejected" <<<"$out" | grep -o '[0-9]* rejected')
expect_contains "$out" ", $n ("
expect_contains "$(PGSIFT_DB=cut.db store_query "SELECT sample FROM reject_samples WHERE reason = 'damaged input'")" \
  "truncated gzip data at compressed byte"
head -c 10 postgresql.csv.2.gz >tiny.csv.gz
touch -d '2026-01-01' tiny.csv.gz
out=$(PGSIFT_DB=tiny.db "$PGSIFT" ingest tiny.csv.gz 2>&1)
expect_contains "$out" "'tiny.csv.gz': 1 rejected (damaged input: truncated gzip data at compressed byte 10"
[[ $out != *"kept in the store"* ]] || fail "nothing was stored, yet: $out"

# A .gz read while gzip is still writing it (modified lately, its data ends inside the
# member): its cut last line is left for the next run, not rejected; once complete, the
# rest is read, and the store equals one run over the whole file.
gzip -c "$csv" >rot.csv.gz
for cut in 3 2; do
  head -c $(($(stat -c %s rot.csv.gz) / cut)) rot.csv.gz >writing.csv.gz
  out=$(PGSIFT_DB=writing.db "$PGSIFT" ingest writing.csv.gz 2>&1)
  expect_contains "$out" "'writing.csv.gz': its gzip data ends early (still being compressed?)"
  expect_contains "$out" " events, 0 rejected ("
  expect_eq "being compressed (1/$cut): no reject" 0 \
    "$(PGSIFT_DB=writing.db store_query "SELECT count(*) FROM reject_samples")"
done
cp rot.csv.gz writing.csv.gz
out=$(PGSIFT_DB=writing.db "$PGSIFT" ingest writing.csv.gz 2>&1)
expect_contains "$out" " events, 0 rejected ("
expect_eq "compressed in three reads == whole" "${ref% *}" "$(PGSIFT_DB=writing.db totals | cut -d' ' -f1,2)"
expect_eq "compressed in three reads: every statement" \
  "$("$PGSIFT" --db ref.db top --format json --limit 0)" "$("$PGSIFT" --db writing.db top --format json --limit 0)"

# A copy is, by content, the same stream: nothing new in it.
zcat postgresql.csv.2.gz >copy.csv
"$PGSIFT" -q ingest copy.csv
expect_eq "a copy is the same stream" "$got" "$(totals)"

# Truncated and rewritten (same inode, new content): read from the start.
cp "$csv" live.csv
PGSIFT_DB=trunc.db "$PGSIFT" -q ingest live.csv
before=$(PGSIFT_DB=trunc.db store_query "SELECT sum(count) FROM record_stats")
tail -n 300 "$csv" >tmp.csv
cat tmp.csv >live.csv # same inode, other content, shorter
out=$(PGSIFT_DB=trunc.db "$PGSIFT" ingest live.csv 2>&1)
expect_contains "$out" "truncated or replaced"
after=$(PGSIFT_DB=trunc.db store_query "SELECT sum(count) FROM record_stats")
# Read from 0: exactly what the new content holds on its own was added.
PGSIFT_DB=alone.db "$PGSIFT" -q ingest tmp.csv
alone=$(PGSIFT_DB=alone.db store_query "SELECT sum(count) FROM record_stats")
((alone > 0)) || fail "nothing in the last 300 lines"
expect_eq "the rewritten file was read from its start" "$((before + alone))" "$after"

# A new file whose inode number held a log read before (ext4 reuses freed numbers: after a
# rename rotation the new log often gets one) is no alarm: said with -v only, read from 0.
# The reuse is made certain here by giving the stored stream the new file's inode; the
# file was created after that stream's last commit (statx birth time), a truncated one
# before it. Filesystems without birth times keep the note.
head -n 200 "$csv" >reused.csv
if [[ $(stat -c %W reused.csv) != 0 ]]; then
  PGSIFT_DB=trunc.db store_query "UPDATE sources SET inode = $(stat -c %i reused.csv) WHERE name = 'live.csv'"
  out=$(PGSIFT_DB=trunc.db "$PGSIFT" -v ingest reused.csv 2>&1)
  expect_not_contains "$out" "truncated or replaced"
  expect_contains "$out" "'reused.csv' is a new file (its inode number held a log read before)"
  PGSIFT_DB=alone2.db "$PGSIFT" -q ingest reused.csv
  expect_eq "a new file on a reused inode is read whole" \
    "$((after + $(PGSIFT_DB=alone2.db store_query "SELECT sum(count) FROM record_stats")))" \
    "$(PGSIFT_DB=trunc.db store_query "SELECT sum(count) FROM record_stats")"
fi

# log_statement + log_duration: a run that stops between a statement and its duration
# line (the file ended there) pairs them on the next run as one run would.
stmt_line=$(grep -n 'statement: UPDATE pgbench_accounts' "$csv" | head -1 | cut -d: -f1)
head -n "$stmt_line" "$csv" >grow.csv
PGSIFT_DB=grow.db "$PGSIFT" -q ingest grow.csv
expect_eq "statements waiting are kept with the position" 1 \
  "$(PGSIFT_DB=grow.db store_query 'SELECT pairing IS NOT NULL FROM sources')"
cp "$csv" grow.csv
PGSIFT_DB=grow.db "$PGSIFT" -q ingest grow.csv
top() { "$PGSIFT" --db "$1" top --format json --limit 0 | jq -S -c 'del(.queries[].stddev_ms)'; }
expect_eq "paired across runs" "$(top ref.db)" "$(top grow.db)"
# log_statement = all: every call's duration follows its statement line (the bare
# parse/bind durations are not calls), so none is left without its text.
expect_eq "every call paired with its statement" 0 \
  "$(PGSIFT_DB=ref.db store_query "SELECT coalesce(sum(calls), 0) FROM query_stats WHERE fingerprint = 0 AND phase = 'call'")"
bare() { # command tag: bare "duration:" lines logged under it
  "$PGSIFT" parse "$csv" 2>/dev/null | jq -s --arg t "$1" \
    '[.[] | select(.command_tag == $t and (.message | test("^duration: [0-9.]+ ms$")))] | length'
}
expect_eq "parse and bind durations kept apart" "bind $(bare BIND) parse $(bare PARSE)" \
  "$(PGSIFT_DB=ref.db store_query "SELECT group_concat(phase || ' ' || n, ' ') FROM (SELECT phase, sum(calls) AS n FROM query_stats WHERE fingerprint = 0 GROUP BY phase ORDER BY phase)")"

# Directories recursively and globs, oldest first; a file named twice is read once.
mkdir -p logs/old
split -n l/3 -d "$csv" part.
mv part.00 logs/old/postgresql-1.csv && touch -d '2026-01-01' logs/old/postgresql-1.csv
mv part.01 logs/postgresql-2.csv && touch -d '2026-01-02' logs/postgresql-2.csv
mv part.02 logs/postgresql-3.csv && touch -d '2026-01-03' logs/postgresql-3.csv
PGSIFT_DB=dir.db "$PGSIFT" -q ingest logs 'logs/*.csv'
expect_eq "directory" "$ref_records" "$(PGSIFT_DB=dir.db store_query 'SELECT sum(count) FROM record_stats')"
expect_eq "sources" 3 "$(PGSIFT_DB=dir.db store_query 'SELECT count(*) FROM sources')"
expect_eq "oldest first" "logs/old/postgresql-1.csv" \
  "$(PGSIFT_DB=dir.db store_query 'SELECT name FROM sources ORDER BY id LIMIT 1')"
# -j 3: three readers, one store, the same result.
PGSIFT_DB=dirj.db "$PGSIFT" -q ingest -j 3 logs
stats='SELECT sum(count), (SELECT sum(n) FROM event_blocks), (SELECT group_concat(offset) FROM (SELECT offset FROM sources ORDER BY name)) FROM record_stats'
expect_eq "-j 3" "$(PGSIFT_DB=dir.db store_query "$stats")" "$(PGSIFT_DB=dirj.db store_query "$stats")"
PGSIFT_DB=dirj.db "$PGSIFT" -q ingest -j 3 logs 'logs/*.csv'
expect_eq "-j 3 again: nothing new" "$(PGSIFT_DB=dir.db store_query "$stats")" "$(PGSIFT_DB=dirj.db store_query "$stats")"

# stdin from a pipe: stored, without a position, and said so.
err=$(cat "$csv" | "$PGSIFT" --db stdin.db ingest - 2>&1)
expect_contains "$err" "stdin is not a file: pgsift cannot recognise its lines later"
expect_eq "stdin" "$ref_records 0" \
  "$(PGSIFT_DB=stdin.db store_query "SELECT sum(count) || ' ' || (SELECT count(*) FROM sources) FROM record_stats")"
# A file on stdin is that file: read again, or by its name, it adds nothing.
"$PGSIFT" -q --db stdinf.db ingest - <"$csv"
"$PGSIFT" -q --db stdinf.db ingest - <"$csv"
"$PGSIFT" -q --db stdinf.db ingest "$csv"
gzip -c "$csv" >stdin.csv.gz
"$PGSIFT" -q --db stdinf.db ingest - <stdin.csv.gz
expect_eq "a file on stdin, four times" "$ref_records 1" \
  "$(PGSIFT_DB=stdinf.db store_query "SELECT sum(count) || ' ' || (SELECT count(*) FROM sources) FROM record_stats")"
# A named pipe and a process substitution are opened once and read as stdin is (opening
# a FIFO a second time waited for a writer forever; /dev/fd/N could not be sought).
mkfifo fifo
cat "$csv" >fifo &
err=$(timeout 60 "$PGSIFT" --db fifo.db ingest fifo 2>&1) || fail "ingest of a FIFO: $err"
wait
expect_contains "$err" "'fifo' is not a file"
err=$(timeout 60 "$PGSIFT" --db fifo.db ingest <(gzip -c "$csv") 2>&1) || fail "ingest <(...): $err"
expect_eq "a FIFO and a process substitution" "$((2 * ref_records))" \
  "$(PGSIFT_DB=fifo.db store_query "SELECT sum(count) FROM record_stats")"

# Nothing parses: exit 3 with a diagnosis, and nothing is marked as read.
printf 'this is not a postgres log\nnor is this\n' >junk.log
rc=0
err=$("$PGSIFT" --db junk.db ingest --format csvlog junk.log 2>&1) || rc=$?
expect_eq "exit code when nothing parses" 3 "$rc"
# (said once, its first line the message: "pgsift: " and what, then the diagnosis)
expect_eq "the diagnosis, once" "pgsift: no log record could be parsed from 'junk.log' (2 lines read)" \
  "$(grep 'could be parsed' <<<"$err")"
expect_contains "$err" "format: csvlog (from --format)"
expect_eq "nothing committed" 0 "$(PGSIFT_DB=junk.db store_query 'SELECT count(*) FROM sources')"

# Usage errors.
expect_exit 2 "$PGSIFT" ingest
expect_exit 2 "$PGSIFT" ingest --format nosuch "$csv"
expect_exit 2 "$PGSIFT" ingest -j 0 "$csv"
expect_exit 1 "$PGSIFT" ingest "$T/does-not-exist.csv"
expect_exit 1 "$PGSIFT" ingest "$T/nothing-*.csv"
# An old log ingested today (hand-made lines for this case): what the roll-up at the end
# deletes at once as past the retention (events: 90 days) is said, not silent.
printf '2026-06-01 10:00:00.000 UTC [12] LOG:  checkpoint starting: time\n2026-11-25 10:00:00.000 UTC [12] LOG:  checkpoint starting: time\n' >old.log
out=$(PGSIFT_DB=old.db "$PGSIFT" ingest old.log 2>&1)
expect_contains "$out" "deleted as older than the retention (docs/store.md): 1 event, 0 day rows"
expect_eq "the newer event stays" 1 "$(PGSIFT_DB=old.db store_query 'SELECT sum(n) FROM event_blocks')"
pass
