#!/usr/bin/env bash
# The example pgsift.yaml in docs/alerting.md is valid, with the shipped rules; every
# command and table of alerting is documented (check-docs covers options).
. "$(dirname "$0")/lib.sh"

doc="$SIFT_SOURCE_DIR/docs/alerting.md"
sed -n '/^<!-- BEGIN example pgsift.yaml/,/^<!-- END example pgsift.yaml/p' "$doc" |
  sed '1,2d;$d' | sed '$d' > pgsift.yaml
expect_contains "$(head -1 pgsift.yaml)" "rules:"
out=$("$PGSIFT" rules check --config pgsift.yaml "$SIFT_SOURCE_DIR"/rules/*.yaml)
expect_contains "$out" "ok: 4 receivers in 'pgsift.yaml'"

# The explain topics for the configuration keys used above exist.
for k in receiver.routing_key_file receiver.secret_file receiver.starttls route.group_wait \
         routes.continue inhibit.equal alerting.max_notify_age; do
  "$PGSIFT" rules explain "$k" >/dev/null || fail "no explanation for '$k'"
done
pass
