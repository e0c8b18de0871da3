#!/usr/bin/env bash
# labels: slow
# timeout: 600
# Every real log of pgBadger's test suite (../shared/peer-logs/pgbadger, never copied
# into the repository) is recognised and parsed with the counts below: the format
# auto-detection picks, events, rejects and foreign lines. Every reject and foreign
# line is explained next to its file. .bz2 files are decompressed with bzip2 first
# (they are skipped when bzip2 is absent); .gz files are read by pgsift itself.
. "$(dirname "$0")/lib.sh"

peer="$(shared_dir)/peer-logs/pgbadger"
[[ -d $peer ]] || skip "$peer is absent"

# file | format | lines | events | rejects | foreign | exit code | why
expected=(
  "anonymize.log|csvlog|8|8|0|0|0|"
  "begin_end.log|stderr|24|24|0|0|0|prefix '%t [%p]: db=%d,user=%u,app=%a,client=%h ' (pgBadger's)"
  "cloudsql.log.gz|cloudsql|1343|1268|0|0|0|75 entries are TAB continuation lines of autovacuum reports"
  "cnpg.log.gz|cnpg|2022|1977|1|43|0|43 operator lines (wal-archive, setup, probes) are foreign; the file is newest-first, so one raw HINT comes before its LOG: 1 reject 'sub-line without its record'"
  "csv_statement_without_duration.log|csvlog|2|0|2|0|3|25 columns: no PostgreSQL version writes 25 (23, 24 or 26)"
  "light.postgres.log.bz2|stderr|630|630|0|0|0|"
  "logplex.gz|syslog|36|10|0|0|0|Heroku logplex; 26 lines are pieces [N-M>1] of 10 records"
  "multiline_param.log|stderr|16|8|0|0|0|prefix inferred: '%m [%p] %quser=%u,db=%d '"
  "pg-syslog.1.bz2|syslog|59921|59896|0|3|0|3 systemd lines are foreign"
  "pg-syslog.2.gz|syslog|59921|59896|0|3|0|3 systemd lines are foreign"
  "pg-timezones.log|stderr|2|2|0|0|0|RDS prefix with one space after 'LOG:' (hand-written)"
  "pg_rawcsv.log|stderr|14|9|0|2|0|2 pg_ctl lines ('pg_ctl: could not start server', 'Examine the log output.') are foreign"
  "pg_vacuums.json.gz|jsonlog|3544|3544|0|0|0|"
  "pg_vacuums.log.gz|stderr|32405|3544|0|0|0|the same 3544 records as pg_vacuums.json.gz, reports on TAB lines"
  "pgbouncer.1.21.log.gz|pgbouncer|100000|0|0|100000|3|a pgbouncer log: recognised, every line foreign, no records"
  "pgbouncer.log.gz|pgbouncer|127910|0|0|127910|3|a pgbouncer log: recognised, every line foreign, no records"
  "postgresql_param_range.log|stderr|6|3|0|0|0|prefix inferred: '%t [%p]: [%l-1] [0] %qusr=%u,db=%d,appli=%a '"
  "queryid.log.gz|stderr|63|28|0|5|0|5 continuation lines indented with spaces instead of PostgreSQL's TAB (edited by hand) are foreign; 2 blank lines"
  "rds.log.bz2|stderr|114604|114604|0|0|0|RDS prefix '%t:%r:%u@%d:[%p]:'"
  "stmt_type.log|stderr|12|12|0|0|0|PostgreSQL's default prefix '%m [%p] '"
  "tempfile_only.log.gz|stderr|188|171|0|0|0|"
  "weeknumber.log|csvlog|6|6|0|0|0|"
)

have_bzip2=1
command -v bzip2 >/dev/null 2>&1 || have_bzip2=0

num() { # KEY JSON: the first "KEY": N (the source; totals come later)
  sed -n "s/^ *\"$1\": \([0-9]*\),\{0,1\}\$/\1/p" <<<"$2" | head -n 1
}
str() {
  sed -n "s/^ *\"$1\": \"\([^\"]*\)\",\{0,1\}\$/\1/p" <<<"$2" | head -n 1
}

printf '%-36s %-9s %8s %8s %8s %8s\n' file format lines events rejects foreign
seen=0
for row in "${expected[@]}"; do
  IFS='|' read -r name format lines events rejects foreign code why <<<"$row"
  src="$peer/$name"
  [[ -f $src ]] || fail "$name is listed here but not in $peer"
  if [[ $name == *.bz2 ]]; then
    if ((!have_bzip2)); then
      echo "$name: skipped (no bzip2)"
      continue
    fi
    bzip2 -dc "$src" >"$T/${name%.bz2}"
    src="$T/${name%.bz2}"
  fi
  rc=0
  out=$("$PGSIFT" parse --stats --stats-format json "$src" 2>"$T/err") || rc=$?
  got_format=$(str format "$out")
  printf '%-36s %-9s %8s %8s %8s %8s  %s\n' "$name" "$got_format" "$(num lines "$out")" \
    "$(num events "$out")" "$(num rejects "$out")" "$(num foreign_lines "$out")" "$why"
  expect_eq "$name: exit code" "$code" "$rc"
  expect_eq "$name: format" "$format" "$got_format"
  expect_eq "$name: lines" "$lines" "$(num lines "$out")"
  expect_eq "$name: events" "$events" "$(num events "$out")"
  expect_eq "$name: rejects" "$rejects" "$(num rejects "$out")"
  expect_eq "$name: foreign lines" "$foreign" "$(num foreign_lines "$out")"
  # the accounting invariant of parse.h: every line in exactly one bucket
  sum=$(($(num event_lines "$out") + $(num reject_lines "$out") + $(num foreign_lines "$out") + $(num blank_lines "$out")))
  [[ -n $(num event_lines "$out") ]] || sum=-1
  if [[ $sum != -1 ]]; then
    expect_eq "$name: lines accounted" "$lines" "$sum"
  fi
  if ((rc == 3)); then
    expect_contains "$(cat "$T/err")" "no log record could be parsed"
  fi
  seen=$((seen + 1))
done

# Every file of the directory is in the table (a new peer log must be looked at).
for f in "$peer"/*; do
  b=$(basename "$f")
  [[ $b == LICENSE ]] && continue
  found=0
  for row in "${expected[@]}"; do [[ ${row%%|*} == "$b" ]] && found=1; done
  expect_eq "$b is in the table of t020-peer-logs.sh" 1 "$found"
done

# pgbouncer logs are named for what they are in the diagnosis.
rc=0
"$PGSIFT" parse "$peer/pgbouncer.log.gz" >/dev/null 2>"$T/err" || rc=$?
expect_eq "pgbouncer exit code" 3 "$rc"
expect_contains "$(cat "$T/err")" "detected: pgbouncer"
expect_contains "$(cat "$T/err")" "this is a pgbouncer log, not a PostgreSQL server log"

# The Cloud SQL export as one pretty-printed JSON array (what `gcloud logging read
# --format=json` writes) is not a stderr log: it used to be read as one with the prefix
# '    "textPayload": "[%p]: [%l-1] db=%d,user=%u ' (events without time, exit 0). Nothing
# parses, exit 3, and the hint says to split the array.
if command -v jq >/dev/null 2>&1; then
  gzip -dc "$peer/cloudsql.log.gz" >"$T/cloudsql.json"
  head -n 50 "$T/cloudsql.json" | jq -s . >"$T/cloudsql-array.json"
  rc=0
  "$PGSIFT" parse "$T/cloudsql-array.json" >"$T/out" 2>"$T/err" || rc=$?
  expect_eq "cloudsql JSON array: exit code" 3 "$rc"
  expect_eq "cloudsql JSON array: events" 0 "$(wc -l <"$T/out")"
  expect_contains "$(cat "$T/err")" "split a JSON array first: jq -c '.[]' FILE"
fi

# A stderr log read with a wrong --prefix: nothing parses, exit 3, and the diagnosis
# names the prefix and says how to find the right one.
rc=0
"$PGSIFT" parse --format stderr --prefix '%m %p: ' "$peer/stmt_type.log" >/dev/null 2>"$T/err" || rc=$?
expect_eq "wrong --prefix exit code" 3 "$rc"
expect_contains "$(cat "$T/err")" "prefix: '%m %p: '"
expect_contains "$(cat "$T/err")" "(try --prefix '%m [%p] "
expect_contains "$(cat "$T/err")" "--prefix"

# The stderr and jsonlog copies of the same records agree (pid and message, in order
# per pid): the stderr prefix has %t, so times agree to the second (+-1, fixtures README).
"$PGSIFT" parse "$peer/pg_vacuums.log.gz" | sed -n 's/.*"pid":\([0-9]*\),.*"message":"\([^"]*\)".*/\1 \2/p' | sort >"$T/a"
"$PGSIFT" parse "$peer/pg_vacuums.json.gz" | sed -n 's/.*"pid":\([0-9]*\),.*"message":"\([^"]*\)".*/\1 \2/p' | sort >"$T/b"
expect_eq "pg_vacuums: records of stderr and jsonlog" "$(wc -l <"$T/b")" "$(wc -l <"$T/a")"
expect_eq "pg_vacuums: stderr and jsonlog differ" "" "$(diff "$T/a" "$T/b" | head -n 3)"

# The numbers of their 2 094 autovacuum and 1 450 autoanalyze reports (PostgreSQL 16):
# summed from pgsift parse's facts, and from the report lines by awk.
facts() {
  "$PGSIFT" parse "$1" | jq -s -r '[.[] | select(.kind == "autovacuum" or .kind == "autoanalyze")] |
    [length, ([.[] | select(.pages_removed != null)] | length),
     ([.[].tuples_removed // 0] | add), ([.[].pages_removed // 0] | add),
     ([.[].tuples_dead // 0] | add), ([.[].index_scans // 0] | add),
     ([.[].buffer_hits // 0] | add), ([.[].buffer_misses // 0] | add),
     ([.[].buffer_dirtied // 0] | add), ([.[].wal_records // 0] | add),
     ([.[].wal_bytes // 0] | add), ([.[].elapsed_s // 0] | add | . * 100 | round)] |
    map(tostring) | join(" ")'
}
by_awk=$(zcat "$peer/pg_vacuums.log.gz" | awk '
  /automatic (aggressive )?(vacuum|analyze)( to prevent wraparound)? of table/ { n++ }
  /: index scans: [0-9]+$/ { scans += $NF }
  /^\tpages: [0-9]+ removed/ { pages++; pr += $2 }
  /^\ttuples: [0-9]+ removed/ { tr += $2; dead += $6 }
  /^\tbuffer usage:/ { h += $3; m += $5; d += $7 }
  /^\tWAL usage:/ { wr += $3; wb += $9 }
  /system usage: CPU:/ { for (i = 1; i < NF; i++) if ($i == "elapsed:") el += $(i + 1) }
  END { printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", n, pages, tr, pr, dead, scans, h, m, d, wr, wb, el * 100 }')
expect_eq "pg_vacuums: autovacuum numbers (count, pages lines, tuples and pages removed, dead, index scans, buffers, WAL, elapsed)" \
  "$by_awk" "$(facts "$peer/pg_vacuums.log.gz")"
expect_eq "pg_vacuums: the same numbers from jsonlog" "$by_awk" "$(facts "$peer/pg_vacuums.json.gz")"

echo "$seen files parsed"
pass
