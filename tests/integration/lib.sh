# SPDX-License-Identifier: MIT
# Sourced by every tests/integration/tNNN-*.sh (Git's test-lib in miniature).
#
# Gives each test a fresh temporary directory ($T, removed at exit, kept with
# SIFT_KEEP_TMP=1), the binaries ($PGSIFT, $SIFT_TEST_TOOL), and:
#   expect_eq WHAT EXPECTED ACTUAL     fail with both values when they differ
#   expect_exit CODE CMD...            run CMD, fail unless it exits CODE
#   expect_contains HAYSTACK NEEDLE    fail unless NEEDLE occurs in HAYSTACK
#   expect_not_contains HAYSTACK NEEDLE
#   wait_for SECONDS CMD...            poll CMD until it succeeds; never fixed sleeps
#   store_query SQL                    run SQL against $PGSIFT_DB (sqlite3)
#   skip REASON                        exit 77 (ctest shows the test as skipped)
#   need_cmd NAME...                   skip unless each command exists
#   shared_dir                         print ../shared of the project, or skip
#   pg15_csvlog                        copy the real PostgreSQL 15 csvlog fixture to
#                                      logs/postgresql.csv, or skip when it is absent
#   read_then_copy gz|copy DB          pg.log read up to line 300, grown to 400, copied
#   pg15_run RUN                       print the directory of a real PostgreSQL 15 fixture
#                                      run (fx=$(pg15_run text-plans)), or skip
#   pg_server CONF...                  (after sourcing scripts/lib/pg.sh) skip unless
#                                      PostgreSQL's binaries are there, then start a server
#                                      in $T/pg with these postgresql.conf lines, stopped and
#                                      removed when the test exits
#   shipped_rules FILE OLD NEW...      print rules/FILE with each text OLD replaced by NEW
#                                      (thresholds a fixture reaches); fail if OLD is absent
#   deadlock_rules RESOLVE [SUMMARY]   print a rules file with the one `deadlock` rule the
#                                      alert tests share (critical, one alert per database)
#   pass                               print "N passed, 0 failed" and exit 0
set -euo pipefail

: "${SIFT_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PGSIFT:=$SIFT_SOURCE_DIR/build/test/pgsift}"
: "${SIFT_TEST_TOOL:=$SIFT_SOURCE_DIR/build/test/tests/sift-test-tool}"
export SIFT_SOURCE_DIR PGSIFT SIFT_TEST_TOOL

T=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-test.XXXXXX")
export T
export PGSIFT_DB="$T/pgsift.db"
_sift_cleanup() {
  local rc=$?
  if [[ -n ${SIFT_KEEP_TMP:-} || $rc -ne 0 && $rc -ne 77 && -n ${SIFT_KEEP_FAILED:-} ]]; then
    echo "kept $T" >&2
  else
    rm -rf "$T"
  fi
  return $rc
}
trap _sift_cleanup EXIT
cd "$T"

_sift_checks=0
fail() {
  echo "FAIL: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

expect_eq() {
  _sift_checks=$((_sift_checks + 1))
  [[ "$2" == "$3" ]] || fail "$1: expected '$2', got '$3'"
}

expect_exit() {
  local want=$1 got=0
  shift
  "$@" || got=$?
  _sift_checks=$((_sift_checks + 1))
  [[ $got == "$want" ]] || fail "'$*' exited $got, expected $want"
}

expect_contains() {
  _sift_checks=$((_sift_checks + 1))
  [[ "$1" == *"$2"* ]] || fail "expected to find '$2' in: $1"
}

expect_not_contains() {
  _sift_checks=$((_sift_checks + 1))
  [[ "$1" != *"$2"* ]] || fail "did not expect '$2' in: $1"
}

wait_for() {
  local timeout=$1
  shift
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for: $*"
    sleep 0.05
  done
}

store_query() {
  sqlite3 -batch -noheader "$PGSIFT_DB" "$1"
}

skip() {
  echo "skipped: $*"
  exit 77
}

need_cmd() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c not installed"; done
}

# The store's clock at the time of the fixtures and of the tests' own 2026-11-24/25 lines:
# the roll-up at the end of every ingest deletes what is past the retention (events after
# 90 days), so a test that reads them back pins the clock, or it fails once the
# calendar passes its data.
fixture_clock() {
  export SIFT_TEST_NOW=2026-11-26T00:00:00Z
}

# Lines $1..$2 of a stderr log (a connection each, one second apart from 2026-11-25 00:00).
stderr_lines() {
  local j
  for ((j = $1; j <= $2; j++)); do
    printf '2026-11-25 %02d:%02d:%02d UTC [%d] LOG:  connection received: host=10.0.0.%d port=5432\n' \
      $((j / 3600 % 24)) $((j / 60 % 60)) $((j % 60)) "$j" $((j % 250))
  done
}

# Records committed to the store $1.
store_records() {
  PGSIFT_DB=$1 store_query "SELECT coalesce(sum(count), 0) FROM record_stats"
}

shared_dir() {
  local d="$SIFT_SOURCE_DIR/../shared"
  [[ -d $d ]] || skip "../shared is absent"
  (cd "$d" && pwd)
}

pg15_csvlog() {
  local fx="$SIFT_SOURCE_DIR/tests/fixtures/pg15/statement-log/postgresql.csv"
  [[ -f $fx ]] || skip "pg15 fixtures absent"
  mkdir -p logs
  cp "$fx" logs/postgresql.csv
}

pg_server() {
  [[ -x $PG_BINDIR/pg_ctl && -x $PG_BINDIR/psql ]] || skip "PostgreSQL binaries not in $PG_BINDIR"
  # pg.sh runs the server as an unprivileged user when we are root: it needs to reach $T.
  chmod 711 "$T"
  trap '_rc=$?; set +e; pg_destroy; (exit $_rc); _sift_cleanup' EXIT
  pg_start "$T/pg" "$@"
}

# In $(...): skip's exit 77 ends the test (set -e), its message goes to stderr.
pg15_run() {
  local d="$SIFT_SOURCE_DIR/tests/fixtures/pg15/$1"
  [[ -f $d/postgresql.csv ]] || skip "pg15 fixtures absent" >&2
  echo "$d"
}

shipped_rules() {
  local file=$1 text
  text=$(<"$SIFT_SOURCE_DIR/rules/$file")
  shift
  while (($# >= 2)); do
    [[ $text == *"$1"* ]] || fail "rules/$file changed: no '$1' to replace" >&2
    text=${text//"$1"/"$2"}
    shift 2
  done
  printf '%s\n' "$text"
}

# In the current directory: pg.log with lines 1..300 ingested into store $2, then grown to
# 400 lines and copied whole ($1 gz: `gzip -k` to pg.log.gz; copy: `cp` to snap.log).
# Prints the copy's name. (t109: copies of a stream; t111: copies shorter than it.)
read_then_copy() {
  stderr_lines 1 300 >pg.log
  "$PGSIFT" -q --db "$2" ingest pg.log
  stderr_lines 301 400 >>pg.log
  if [[ $1 == gz ]]; then
    gzip -k pg.log
    echo pg.log.gz
  else
    cp pg.log snap.log
    echo snap.log
  fi
}

deadlock_rules() {
  local summary=${2:-}
  [[ -n $summary ]] || summary='deadlock on {{ database }}'
  cat <<YAML
rules:
  - name: deadlock
    kind: event
    where: { type: [deadlock] }
    group_by: [database]
    severity: critical
    resolve_after: $1
    annotations: { summary: "$summary" }
YAML
}

pass() {
  echo "$_sift_checks passed, 0 failed"
  exit 0
}
