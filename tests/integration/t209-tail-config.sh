#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift.yaml: every problem reported with file:line:col (all of them, in file order,
# with the accepted keys or values), the example in contrib/ is valid and mentions every
# key, and the reference in docs/tail.md is the one the field tables print.
# labels: tail
. "$(dirname "$0")/lib.sh"

# The reference in the docs is generated from the field tables.
ref=$("$SIFT_TEST_TOOL" config-reference)
doc=$(sed -n '/<!-- config-reference:begin/,/<!-- config-reference:end/p' "$SIFT_SOURCE_DIR/docs/tail.md" | sed '1d;$d')
if [[ "$ref" != "$doc" ]]; then
  diff <(echo "$ref") <(echo "$doc") >&2 || true
  fail "docs/tail.md config reference differs from 'sift-test-tool config-reference' (paste its output between the markers)"
fi
_sift_checks=$((_sift_checks + 1))

# The example is valid and shows every key of every table.
example=$SIFT_SOURCE_DIR/contrib/pgsift.yaml
out=$("$PGSIFT" tail --check --config "$example")
expect_contains "$out" "configuration ok"
for key in $(grep -oE '^\| `[a-z_]+`' <<<"$ref" | tr -d '|` '); do
  grep -qE "^[# ]*(- )?$key:" "$example" || fail "contrib/pgsift.yaml does not show key '$key'"
done
_sift_checks=$((_sift_checks + 1))

# Every problem, with its place.
cat >"$T/bad.yaml" <<'YAML'
store: /tmp/x.db
sources:
  - path: /var/log/pg
    formt: csvlog
  - name: second
    path: []
  - path: /x
    format: bogus
  - not a mapping
tail:
  commit_interval: 5
  watcher: fast
  commit_records: 0
  rotate_wait: 2h
retention:
  minutes: forever
colour: blue
YAML
out=$("$PGSIFT" tail --check --config "$T/bad.yaml" 2>&1) && fail "a bad configuration passed the check"
expect_exit 2 "$PGSIFT" tail --check --config "$T/bad.yaml"
expect_contains "$out" "invalid configuration (9 problems)"
expect_contains "$out" "bad.yaml:4:5: unknown key 'formt' (expected one of: name, path, format, prefix, tz, include)"
expect_contains "$out" "bad.yaml:6:11: 'path' is empty"
expect_contains "$out" "bad.yaml:8:13: unknown log format 'bogus' (expected one of: auto,"
expect_contains "$out" "bad.yaml:9:5: expected a mapping of keys to values"
expect_contains "$out" "bad.yaml:11:20: 'commit_interval' expects a duration like 30s, 5m, 1h, 7d or 2y, not '5'"
expect_contains "$out" "bad.yaml:12:12: invalid value 'fast' for 'watcher' (expected one of: auto, inotify, poll)"
expect_contains "$out" "bad.yaml:13:19: 'commit_records' must be between 1 and 10000000"
expect_contains "$out" "bad.yaml:16:12: 'minutes' expects a duration"
expect_contains "$out" "bad.yaml:17:1: unknown key 'colour' (expected one of: store, timezone,"
# In file order.
lines=$(grep -oE 'bad.yaml:[0-9]+' <<<"$out" | cut -d: -f2 | tr '\n' ' ')
expect_eq "error order" "4 6 8 9 11 12 13 16 17 " "$lines"

# A time zone is checked where it is written, with or without a report section; a bad
# value in the report section is placed at its key, not at the section's first key.
printf 'timezone: Nowhere/Land\nsources:\n  - path: %s\n' "$T" >"$T/tz.yaml"
out=$("$PGSIFT" tail --check --config "$T/tz.yaml" 2>&1) || true
expect_contains "$out" "tz.yaml:1:11: 'timezone': unknown time zone 'Nowhere/Land'"
# ... once, by the configuration: the report section (whose days it sets) does not say it
# again without its place.
printf 'timezone: Nowhere/Land\nsources:\n  - path: %s\nreport:\n  dir: %s/rep\n' "$T" "$T" >"$T/tzr.yaml"
out=$("$PGSIFT" tail --check --config "$T/tzr.yaml" 2>&1) || true
expect_eq "a bad time zone, said once" 1 "$(grep -c "unknown time zone 'Nowhere/Land'" <<<"$out")"
expect_contains "$out" "tzr.yaml: 1 part of the configuration with problems (above)"
printf 'sources:\n  - path: %s\nreport:\n  dir: %s/rep\n  keep_days: 30\n  formats: [pdf]\n' "$T" "$T" >"$T/rep.yaml"
out=$("$PGSIFT" tail --check --config "$T/rep.yaml" 2>&1) || true
expect_contains "$out" "rep.yaml:6:12: report.formats: expected html, md or json"

# YAML syntax errors point at the place too; a missing file is an I/O error (exit 1).
printf 'sources:\n  - path: [unclosed\n' >"$T/syntax.yaml"
out=$("$PGSIFT" tail --check --config "$T/syntax.yaml" 2>&1) || true
expect_contains "$out" "syntax.yaml:3:1: invalid YAML"
expect_exit 1 "$PGSIFT" tail --check --config "$T/missing.yaml"

# --check checks what the daemon's modules take too, as `tail` would at its start: the
# rule files, the alerting sections and the report section.
printf 'rules:\n  - name: x\n    kind: threshold\n    source: queries\n    metric: calls\n    treshold: 5\n    condition: "> 1"\n' >"$T/bad-rule.yaml"
printf 'sources:\n  - path: %s/dir\nrules: [%s/bad-rule.yaml]\nroute:\n  group_wait: 30x\n' "$T" "$T" >"$T/rules-bad.yaml"
rc=0; out=$("$PGSIFT" tail --check --config "$T/rules-bad.yaml" 2>&1) || rc=$?
expect_eq "bad rules and route: exit" 2 "$rc"
expect_contains "$out" "rules-bad.yaml:5:15: 'group_wait' expects a duration"
expect_contains "$out" "bad-rule.yaml:6:5: unknown key 'treshold'"
expect_not_contains "$out" "configuration ok"
printf 'sources:\n  - path: %s/dir\nreport:\n  at: "25:00"\n  dir: %s/reports\n' "$T" "$T" >"$T/report-bad.yaml"
rc=0; out=$("$PGSIFT" tail --check --config "$T/report-bad.yaml" 2>&1) || rc=$?
expect_eq "bad report section: exit" 2 "$rc"
expect_contains "$out" "report-bad.yaml:4:7: report.at: expected HH:MM"
[[ ! -e $T/reports ]] || fail "--check created the report directory"
expect_exit 2 "$PGSIFT" tail
expect_exit 2 "$PGSIFT" tail -
expect_exit 2 "$PGSIFT" tail --format csvlog --config "$example"
expect_exit 2 "$PGSIFT" tail --check --format nope "$T/x.log"

# Command-line paths without a configuration; the configuration's store is used when
# neither --db nor $PGSIFT_DB is given.
out=$("$PGSIFT" tail --check --format stderr --prefix '%m [%p] ' "$T/dir")
expect_contains "$out" "include '*.log*'"
printf 'store: %s/from-config.db\nsources:\n  - path: %s/a.log\n    format: jsonlog\n' "$T" "$T" >"$T/store.yaml"
: >"$T/a.log"
(unset PGSIFT_DB; "$PGSIFT" tail --once --config "$T/store.yaml") 2>/dev/null
[[ -f $T/from-config.db ]] || fail "the configuration's store was not used"
"$PGSIFT" --db "$T/flag.db" tail --once --config "$T/store.yaml" 2>/dev/null
[[ -f $T/flag.db ]] || fail "--db did not take precedence"
_sift_checks=$((_sift_checks + 2))

# Sections of modules not in this build are not silently ignored.
printf 'sources:\n  - path: %s/a.log\nreceivers: []\nreport: {dir: %s/rep}\n' "$T" "$T" >"$T/hooks.yaml"
out=$("$PGSIFT" tail --once --config "$T/hooks.yaml" 2>&1)
# The rules engine and the daily report are in the build: their sections are used.
expect_not_contains "$out" "report is not used"
expect_contains "$out" "report: daily at 06:00 (UTC) into '$T/rep'"
expect_not_contains "$out" "rules, receivers, route, inhibit and alerting are not used"
# Every problem of every part at once (QA 21a: the report section and the secret files
# said their first problem only, and a configuration without sources nothing else).
printf 'top-secret' >"$T/open.key"
chmod 644 "$T/open.key"
cat >"$T/all.yaml" <<YAML
receivers:
  - name: pd
    type: pagerduty
    routing_key_file: $T/open.key
  - name: pd
    type: slack
    url_env: X
    colour: red
route:
  notify: [pd, zz]
report:
  dir: $T/rep2
  at: "25:99"
  keep_days: -1
  formats: [pdf]
YAML
rc=0; out=$("$PGSIFT" tail --check --config "$T/all.yaml" 2>&1) || rc=$?
expect_eq "every problem: exit" 2 "$rc"
expect_contains "$out" "nothing to follow"
expect_contains "$out" "all.yaml:8:5: unknown key 'colour'"
expect_contains "$out" "all.yaml:5:11: duplicate receiver name 'pd'"
expect_contains "$out" "all.yaml:10:11: unknown receiver 'zz'"
expect_contains "$out" "all.yaml:2:5: receiver 'pd': routing key file '$T/open.key' is readable by group or others (mode 644)"
expect_contains "$out" "all.yaml:13:7: report.at: expected HH:MM"
expect_contains "$out" "all.yaml:14:14: report.keep_days: expected 0 (keep all) to 100000"
expect_contains "$out" "all.yaml:15:12: report.formats: expected html, md or json"
expect_contains "$out" "all.yaml: 3 parts of the configuration with problems (above)"
expect_not_contains "$out" "top-secret"
# The daemon's start says the same problems (QA 21c: only the file's own ones).
rc=0; out=$(timeout 20 "$PGSIFT" tail --config "$T/all.yaml" 2>&1) || rc=$?
expect_eq "every problem at start: exit" 2 "$rc"
expect_contains "$out" "all.yaml:10:11: unknown receiver 'zz'"
expect_contains "$out" "all.yaml:15:12: report.formats: expected html, md or json"
# A problem of the configuration file itself: each line says who speaks (INTERFACE.md).
printf 'sources:\n  - path: %s/a.log\n    formt: csvlog\n' "$T" >"$T/formt.yaml"
rc=0; out=$("$PGSIFT" tail --check --config "$T/formt.yaml" 2>&1) || rc=$?
expect_eq "unknown key: exit" 2 "$rc"
expect_contains "$out" "pgsift: invalid configuration (1 problem):
pgsift: $T/formt.yaml:3:5: unknown key 'formt'"
pass
