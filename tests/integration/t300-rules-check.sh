#!/usr/bin/env bash
# `pgsift rules check` on the shipped examples and on a broken file (every error, with
# file:line:col, exit 2); `rules explain`; docs/rules.md carries the generated reference.
. "$(dirname "$0")/lib.sh"

out=$("$PGSIFT" rules check "$SIFT_SOURCE_DIR"/rules/*.yaml)
expect_contains "$out" "ok: 20 rules in 5 files"
expect_contains "$out" "threshold 8, baseline 1, new_fingerprint 1, event 9, absence 1"
# A directory: its *.yaml and *.yml files, in name order; the same rules as the glob.
expect_eq "rules check of the rules directory" "$out" "$("$PGSIFT" rules check "$SIFT_SOURCE_DIR/rules")"
mkdir -p rdir/sub empty
cp "$SIFT_SOURCE_DIR/rules/events.yaml" rdir/b.yml
cp "$SIFT_SOURCE_DIR/rules/ingest.yaml" rdir/a.yaml
cp "$SIFT_SOURCE_DIR/rules/queries.yaml" rdir/sub/c.yaml # (not read: a subdirectory)
printf 'not: [a rule file\n' > rdir/.hidden.yaml
printf 'not: [a rule file\n' > rdir/notes.txt
expect_contains "$("$PGSIFT" rules check rdir)" "ok: $(($(grep -c '^  - name:' rdir/b.yml) + $(grep -c '^  - name:' rdir/a.yaml))) rules in 2 files"
rc=0; err=$("$PGSIFT" rules check empty 2>&1) || rc=$?
expect_eq "exit code on a directory without rule files" 2 "$rc"
expect_contains "$err" "rule directory 'empty' holds no rule files (*.yaml, *.yml)"

cat > broken.yaml <<'YAML'
version: 1
rules:
  - name: slow
    kind: threshold
    metric: calls
    treshold: 5
    window: 90s
    condition: "> 500"
    group_by: [database, sqlstate]
  - name: dl
    kind: event
    where: { type: [deadlock, dedlock] }
    severity: fatal
YAML
rc=0; err=$("$PGSIFT" rules check broken.yaml 2>&1 >/dev/null) || rc=$?
expect_eq "exit code on a broken rule file" 2 "$rc"
expect_contains "$err" "pgsift: broken.yaml:6:5: unknown key 'treshold' (expected one of: name, kind,"
expect_contains "$err" "pgsift: broken.yaml:7:13: 'window' must be a whole number of minutes"
expect_contains "$err" "pgsift: broken.yaml:9:15: cannot group source 'queries' by 'sqlstate'"
expect_contains "$err" "pgsift: broken.yaml:12:31: invalid type 'dedlock' in 'where'"
expect_contains "$err" "pgsift: broken.yaml:13:15: invalid value 'fatal' for 'severity'"
expect_contains "$err" "pgsift: 5 errors in 1 rule file"
# In file order.
expect_eq "errors sorted by position" "6 7 9 12 13" \
  "$(grep -oE 'broken.yaml:[0-9]+' <<<"$err" | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"

# A good file next to a broken one: still exit 2, errors of the broken one only.
rc=0; err=$("$PGSIFT" rules check "$SIFT_SOURCE_DIR/rules/events.yaml" broken.yaml 2>&1) || rc=$?
expect_eq "exit code with one broken file of two" 2 "$rc"
expect_not_contains "$err" "events.yaml"

# Unreadable file: environment error, exit 1.
expect_exit 1 "$PGSIFT" rules check does-not-exist.yaml
expect_exit 2 "$PGSIFT" rules check
expect_exit 2 "$PGSIFT" rules frobnicate

# --config cross-checks receivers named by notify:.
cat > pgsift.yaml <<'YAML'
receivers:
  - { name: ops, type: webhook, url_env: HOOK_URL }
route: { notify: [ops] }
YAML
cat > notify.yaml <<'YAML'
rules:
  - { name: dl, kind: event, where: { type: deadlock }, notify: [ops, pager] }
YAML
rc=0; err=$("$PGSIFT" rules check --config pgsift.yaml notify.yaml 2>&1) || rc=$?
expect_eq "exit code for an unknown receiver" 2 "$rc"
expect_contains "$err" "notify.yaml:2:5: rule 'dl' notifies unknown receiver 'pager'"
sed -i 's/, pager//' notify.yaml
out=$("$PGSIFT" rules check --config pgsift.yaml notify.yaml)
expect_contains "$out" "ok: 1 receiver in 'pgsift.yaml'"

# Every problem is reported, not the first: a value of the wrong type in 'where' does not
# hide the other keys' problems; a choice lists its values; a version that is no
# integer is one error, not two.
cat > where.yaml <<'YAML'
version: 1
rules:
  - name: lw
    kind: event
    where: {type: [lock_wait], min_calls: 1e30, wait_ms: "> zz"}
    severity: [critical]
YAML
rc=0; out=$("$PGSIFT" rules check where.yaml 2>&1) || rc=$?
expect_eq "where: exit" 2 "$rc"
expect_contains "$out" "where.yaml:5:32: 'where.min_calls' does not apply to source 'events'"
expect_contains "$out" "where.yaml:5:43: 'min_calls' expects an integer, not '1e30'"
expect_contains "$out" "where.yaml:5:58: 'wait_ms' expects a comparison"
expect_contains "$out" "where.yaml:6:15: 'severity' expects one of info, warning, critical, not a list"
expect_contains "$out" "4 errors in 1 rule file"
# --config checks the whole file, each problem once: an unknown key in a source too.
printf 'sources:\n  - name: main\n    path: /tmp\n    prefx: x\nbogus: 1\n' > whole.yaml
rc=0; out=$("$PGSIFT" rules check --config whole.yaml where.yaml 2>&1) || rc=$?
expect_eq "whole config: exit" 2 "$rc"
expect_contains "$out" "whole.yaml:4:5: unknown key 'prefx'"
expect_eq "unknown top-level key said once" 1 "$(grep -c "whole.yaml:5:1: unknown key 'bogus'" <<<"$out")"
rc=0; out=$("$PGSIFT" --db whole.db alerts deliver --config whole.yaml --once 2>&1) || rc=$?
expect_eq "alerts deliver refuses it too" 2 "$rc"
expect_contains "$out" "whole.yaml:4:5: unknown key 'prefx'"
expect_contains "$out" "2 errors in 'whole.yaml'"
printf 'version: 99999999999999999999\nrules: []\n' > version.yaml
out=$("$PGSIFT" rules check version.yaml 2>&1) || true
expect_contains "$out" "'version' expects an integer"
expect_not_contains "$out" "unsupported version"

# explain: overview, a kind, a key, a nested key, a config key, an unknown topic.
expect_contains "$("$PGSIFT" rules explain)" "new_fingerprint"
expect_contains "$("$PGSIFT" rules explain baseline)" "baseline         baseline: the period compared with"
expect_contains "$("$PGSIFT" rules explain keep_firing_for)" "default: 0s"
expect_contains "$("$PGSIFT" rules explain where.wait_ms)" "sources: events"
expect_contains "$("$PGSIFT" rules explain receiver.url_env)" "environment variable"
expect_exit 2 "$PGSIFT" rules explain no_such_topic

# docs/rules.md contains exactly the generated reference.
doc=$(sed -n '/^<!-- BEGIN pgsift rules explain --markdown/,/^<!-- END pgsift rules explain --markdown/p' \
  "$SIFT_SOURCE_DIR/docs/rules.md" | sed '1d;$d')
gen=$("$PGSIFT" rules explain --markdown)
if [[ "$doc" != "$gen" ]]; then
  diff <(echo "$doc") <(echo "$gen") >&2 || true
  fail "docs/rules.md reference differs from 'pgsift rules explain --markdown' (regenerate it)"
fi
# Every rule key of the table appears in the doc's prose or reference.
for k in $("$PGSIFT" rules explain | sed -n 's/^Rule keys: //p'); do
  expect_contains "$(cat "$SIFT_SOURCE_DIR/docs/rules.md")" "\`$k\`"
done
pass
