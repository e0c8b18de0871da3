#!/usr/bin/env bash
# INTERFACE.md's example pgsift.yaml (../shared, never copied here) is a configuration
# pgsift accepts as written: `pgsift ingest --config` takes its store settings and its
# retention (`days: 2y` once failed: durations had no year), and `pgsift rules check
# --config` its receivers and route. Skips when ../shared is absent.
. "$(dirname "$0")/lib.sh"

iface="$(shared_dir)/INTERFACE.md"
[[ -f $iface ]] || skip "$iface is absent"
# The first ```yaml block of the file.
awk '/^```yaml/ { inside = 1; next } /^```/ { if (inside) exit } inside' "$iface" > pgsift.yaml
[[ -s pgsift.yaml ]] || fail "no yaml block in $iface"
expect_contains "$(cat pgsift.yaml)" "retention:"

: > empty.log
rc=0; out=$("$PGSIFT" --db "$T/iface.db" ingest --config pgsift.yaml --no-progress empty.log 2>&1) ||
  rc=$?
expect_eq "ingest --config with INTERFACE.md's example (output: $out)" 0 "$rc"
# Its retention is kept in the store: two years of day rows.
expect_eq "days retention kept" "$((730 * 86400 * 1000000))" \
  "$(PGSIFT_DB=$T/iface.db store_query "SELECT value FROM settings WHERE name = 'retention.days_us'")"

printf 'rules: []\n' > none.yaml
rc=0; out=$("$PGSIFT" rules check --config pgsift.yaml none.yaml 2>&1) || rc=$?
expect_eq "rules check --config with INTERFACE.md's example (output: $out)" 0 "$rc"
expect_contains "$out" "1 receiver"
pass
