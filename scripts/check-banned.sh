#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Banned functions in src/ (Git's banned.h list plus curl's atoi/atol and the shell
# functions), checked curl-style with grep. A justified use carries
# /* banned-ok: <reason> */ on the same line.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
banned='strcpy|strcat|strncpy|strncat|sprintf|vsprintf|strtok|atoi|atol|atoll|gmtime|localtime|ctime|asctime|mktemp|tmpnam|gets|system|popen'
hits=$(grep -rnE "(^|[^_[:alnum:]])($banned)[[:space:]]*\(" "$root/src" --include='*.c' --include='*.h' |
  grep -v 'banned-ok' | grep -vE ':[[:space:]]*(\*|/\*)' || true)
if [[ -n $hits ]]; then
  echo "banned functions used (see scripts/check-banned.sh):"
  echo "$hits"
  exit 1
fi
echo "banned: ok"
