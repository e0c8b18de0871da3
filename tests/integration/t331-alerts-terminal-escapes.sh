#!/usr/bin/env bash
# Label values come from the logs (a database, user or application name is whatever a
# client sent): `pgsift alerts` (instances, --history) and the `rules test` timeline
# print them in a table (or Markdown), so escape sequences and other control characters must not
# reach the terminal (OSC title/clipboard, screen clears, C1 CSI).
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired

printf '2026-11-25 10:00:01.001 UTC [102] u@d\033]0;EVIL\007b\033[2J\xc2\x9b2J/app ERROR:  relation "x" does not exist\n' > "$T/esc.log"
cat > "$T/rules.yaml" <<'YAML'
rules:
  - { name: errs, kind: threshold, source: errors, metric: count, window: 5m,
      condition: "> 0", group_by: [database] }
YAML
"$PGSIFT" ingest --no-progress --format stderr --prefix '%m [%p] %u@%d/%a ' "$T/esc.log" 2>/dev/null
SIFT_TEST_NOW=2026-11-25T10:01:00Z "$PGSIFT" rules eval --since 2026-11-25T09:59:00Z \
  --until 2026-11-25T10:01:00Z "$T/rules.yaml" >/dev/null
"$PGSIFT" parse --format stderr --prefix '%m [%p] %u@%d/%a ' "$T/esc.log" > "$T/esc.ndjson"
# (Markdown is read on terminals too; CSV is data and keeps the bytes, as `events` does.)
for what in "alerts" "alerts --history" "alerts --format md" "alerts --history --format md" "rules test --events $T/esc.ndjson --since 2026-11-25T09:59:00Z --until 2026-11-25T10:01:00Z $T/rules.yaml"; do
  # shellcheck disable=SC2086
  out=$("$PGSIFT" $what 2>&1)
  expect_contains "$out" "database=d"
  if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' <<<"$out"; then
    printf '%s\n' "$out" | cat -v | grep 'database=' >&2
    fail "'pgsift $what' printed a control character from the log"
  fi
done
pass
