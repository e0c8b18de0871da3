# SPDX-License-Identifier: MIT
# Helpers for the alert delivery tests (sourced after lib.sh).
#   start_http_stub NAME SCRIPT   loopback HTTP stub; sets NAME_port; logs to NAME.log
#   start_smtp_stub NAME SCRIPT   the same for SMTP
#   stub_field NAME FIELD         one field of every request NAME got, one per line
#   at TIME CMD...                run CMD with SIFT_TEST_NOW=TIME
#   q SQL                         query the store
_stub_pids=()
_alerts_cleanup() {
  local rc=$?
  local p
  for p in "${_stub_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  (exit $rc)
  _sift_cleanup
}
trap _alerts_cleanup EXIT

_start_stub() {
  local kind=$1 name=$2 script=$3
  rm -f "$name.port"
  "$SIFT_TEST_TOOL" "$kind" --port-file "$name.port" --log "$name.log" --script "$script" \
    --max-seconds 120 --max-requests 500 &
  _stub_pids+=($!)
  wait_for 10 test -s "$name.port"
  printf -v "${name}_port" '%s' "$(cat "$name.port")"
}
start_http_stub() { _start_stub http-stub "$@"; }
start_smtp_stub() { _start_stub smtp-stub "$@"; }
stub_field() { "$SIFT_TEST_TOOL" stub-log "$1.log" "$2"; }
stub_count() { if [[ -f $1.log ]]; then wc -l < "$1.log" | tr -d ' '; else echo 0; fi; }
at() { local t=$1; shift; SIFT_TEST_NOW=$t "$@"; }
q() { sqlite3 -batch -noheader "$PGSIFT_DB" "$1"; }
