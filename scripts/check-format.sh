#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Formatting check with the pinned clang-format major version (Debian 12's 14). Other
# versions format differently, so they skip (77) rather than fail.
# scripts/check-format.sh --fix reformats in place.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
ver=$(clang-format --version | grep -oE 'version [0-9]+' | awk '{print $2}')
[[ $ver == 14 ]] || { echo "clang-format $ver is not the pinned 14: skipped"; exit 77; }
mapfile -t files < <(cd "$root" && find src tests -name '*.c' -o -name '*.h' | grep -v '/corpus/' | sort)
cd "$root"
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run -Werror "${files[@]}"
echo "format: ok (${#files[@]} files)"
