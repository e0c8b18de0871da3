# SPDX-License-Identifier: MIT
# Sourced by the live-tail tests (t2NN-tail-*.sh) after lib.sh.
#
# The invariant of every test: each record the writer (sift-test-tool append-lines)
# wrote is counted exactly once. Record i has a duration of i ms, so the store's calls,
# total and sum of squares together tell a lost record from a doubled one:
#
#   tail_start ARGS...         start `pgsift tail ARGS` in the background ($TAIL_PID)
#   tail_stop [SIG]            send SIG (default TERM), wait, fail unless it exited 0
#   tail_kill9                 SIGKILL it (a crash) and reap it
#   writer ARGS...             run append-lines; its summary is added to $T/expect (the
#                              expectation is the sum of every writer run)
#   expect_counted [SECONDS]   wait until the store holds exactly what the writer wrote
#   totals                     print "calls total_ms sumsq_ms" from the store
#   tail_once ARGS...          `pgsift tail --once ARGS`: must add nothing afterwards

TAIL_PID=
_tail_n=0

# The daemon's "following N source(s) (watcher) into STORE", once it is up; not the
# watcher's earlier "...: following files by polling" (SIFT_TEST_NO_INOTIFY).
_tail_up_lines() { grep -cE "following [0-9]+ sources? \(" "$T/tail.err" 2>/dev/null || true; }

_tail_started() {
  (($(_tail_up_lines) >= _tail_n))
}

tail_start() {
  # (counted from the log: a run's -v lines may say "following" too)
  _tail_n=$(($(_tail_up_lines) + 1))
  "$PGSIFT" -v tail "$@" 2>>"$T/tail.err" &
  TAIL_PID=$!
  # Up once it says so (after opening the store and starting the watcher).
  wait_for 20 _tail_started
}

tail_stop() {
  local sig=${1:-TERM} rc=0
  [[ -n $TAIL_PID ]] || return 0
  kill -"$sig" "$TAIL_PID"
  wait "$TAIL_PID" || rc=$?
  TAIL_PID=
  if [[ $rc -ne 0 ]]; then
    cat "$T/tail.err" >&2
    fail "pgsift tail exited $rc after SIG$sig (expected 0)"
  fi
}

tail_kill9() {
  [[ -n $TAIL_PID ]] || return 0
  kill -KILL "$TAIL_PID"
  wait "$TAIL_PID" 2>/dev/null || true
  TAIL_PID=
}

_tail_kill_all() {
  [[ -n $TAIL_PID ]] && kill -KILL "$TAIL_PID" 2>/dev/null
  [[ -n ${WRITER_PID:-} ]] && kill -KILL "$WRITER_PID" 2>/dev/null
  return 0
}
# Stop what is still running, then lib.sh's cleanup with the test's exit status.
trap '_tail_rc=$?; set +e; _tail_kill_all; (exit $_tail_rc); _sift_cleanup' EXIT

writer() {
  "$SIFT_TEST_TOOL" append-lines "$@" >>"$T/expect"
}

totals() {
  store_query "SELECT coalesce(sum(calls),0) || ' ' || coalesce(sum(total_us)/1000,0) || ' ' ||
               coalesce(CAST(round(sum(sumsq_ms)) AS INTEGER),0) FROM query_stats" 2>/dev/null
}

_expected() {
  awk '{n += $2; s += $4; q += $6} END {printf "%.0f %.0f %.0f\n", n, s, q}' "$T/expect"
}

_counted() {
  [[ -f $PGSIFT_DB ]] && [[ "$(totals)" == "$(_expected)" ]]
}

expect_counted() {
  local timeout=${1:-30} deadline
  deadline=$((SECONDS + timeout))
  until _counted; do
    if ((SECONDS >= deadline)); then
      echo "--- pgsift tail stderr:" >&2
      tail -n 40 "$T/tail.err" >&2 || true
      fail "store holds '$(totals)' (calls total_ms sumsq_ms), writer wrote '$(_expected)'"
    fi
    sleep 0.05
  done
  _sift_checks=$((_sift_checks + 1))
}

tail_once() {
  "$PGSIFT" tail --once "$@" 2>>"$T/tail.err" || fail "pgsift tail --once $* failed"
}
