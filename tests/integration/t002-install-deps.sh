#!/usr/bin/env bash
# scripts/install-deps.sh is idempotent: when every package is installed it must not
# touch apt at all (a second quickstart/test run reinstalls nothing).
. "$(dirname "$0")/lib.sh"
need_cmd dpkg-query

mkdir -p "$T/bin"
for tool in apt-get apt; do
  printf '#!/bin/sh\necho "%s called: $*" >> "%s/apt-calls"\nexit 1\n' "$tool" "$T" > "$T/bin/$tool"
  chmod +x "$T/bin/$tool"
done

# The suite itself runs only after install-deps.sh succeeded, so everything is there.
PATH="$T/bin:$PATH" "$SIFT_SOURCE_DIR/scripts/install-deps.sh" all
expect_eq "apt calls when nothing is missing" "" "$(cat "$T/apt-calls" 2>/dev/null || true)"
PATH="$T/bin:$PATH" "$SIFT_SOURCE_DIR/scripts/install-deps.sh" build
expect_eq "apt calls for the build set" "" "$(cat "$T/apt-calls" 2>/dev/null || true)"
expect_exit 2 "$SIFT_SOURCE_DIR/scripts/install-deps.sh" bogus
pass
