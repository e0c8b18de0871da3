#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Include direction check (run by ctest as check/layout). The pipeline's stages may
# include only core/, event.h, their own folder's headers and the *public* header
# (<stage>/<stage>.h) of stages before them:
#
#   core < event.h < input < parse < normalize < classify < store < rules < report < top
#
# normalize sits before classify because it knows only SQL (no log structure), so
# classify may use it to redact constants inside plans. "top" is main.c, pipeline*.[ch],
# config.[ch] and cmd/: they may include any public header. core/ includes nothing but core/.
#
#   check-layout.sh [SRC_DIR]     check a tree (default: the project's src/)
#   check-layout.sh --self-test   plant violations in a scratch tree, expect failures
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

order_of() {
  case $1 in
    core) echo 0 ;; event) echo 1 ;; input) echo 2 ;; parse) echo 3 ;;
    normalize) echo 4 ;; classify) echo 5 ;; store) echo 6 ;; rules) echo 7 ;;
    report) echo 8 ;; top) echo 9 ;; *) echo -1 ;;
  esac
}

stage_of_file() { # path relative to src/
  case $1 in
    event.h | event.c) echo event ;;
    main.c | pipeline.c | pipeline_par.c | pipeline.h | config.c | config.h | cmd/*) echo top ;;
    */*) echo "${1%%/*}" ;;
    *) echo unknown ;;
  esac
}

check_tree() {
  local src=$1 bad=0 f rel stage so line inc tstage to
  while IFS= read -r f; do
    rel=${f#"$src"/}
    stage=$(stage_of_file "$rel")
    so=$(order_of "$stage")
    if ((so < 0)); then
      echo "$rel: file outside the pipeline layout (expected a stage folder, cmd/, main.c, pipeline*.c or event.[ch])"
      bad=1
      continue
    fi
    while IFS= read -r line; do
      inc=${line#*\"}
      inc=${inc%%\"*}
      [[ -z $inc ]] && continue
      [[ $inc == version.h ]] && { ((so == 9)) && continue; echo "$rel: includes generated \"version.h\" (only main.c/cmd may)"; bad=1; continue; }
      [[ $inc == config.h ]] && { ((so == 9)) && continue; echo "$rel: includes \"config.h\" (only main.c, pipeline.c, config.c and cmd/ may)"; bad=1; continue; }
      [[ $inc == pipeline.h ]] && { ((so == 9)) && continue; echo "$rel: includes \"pipeline.h\" (only main.c, pipeline.c and cmd/ may)"; bad=1; continue; }
      if [[ $inc == event.h ]]; then
        if ((so == 0)); then echo "$rel: core/ must not include \"event.h\""; bad=1; fi
        continue
      fi
      if [[ $inc != */* ]]; then
        echo "$rel: include \"$inc\" is not path-qualified from src/"; bad=1; continue
      fi
      tstage=${inc%%/*}
      [[ $tstage == cmd ]] && tstage=top
      to=$(order_of "$tstage")
      if ((to < 0)); then echo "$rel: include \"$inc\" names no stage"; bad=1; continue; fi
      [[ $tstage == core ]] && continue
      if ((so == 0)); then echo "$rel: core/ must not include \"$inc\""; bad=1; continue; fi
      [[ $tstage == "$stage" ]] && continue
      if [[ $tstage == top ]]; then echo "$rel: includes \"$inc\" from above the pipeline"; bad=1; continue; fi
      if [[ $inc != "$tstage/$tstage.h" ]]; then
        echo "$rel: includes \"$inc\", private to $tstage/ (use $tstage/$tstage.h)"; bad=1; continue
      fi
      if ((so != 9 && to >= so)); then
        echo "$rel: $stage/ may not include \"$inc\" ($tstage comes after $stage in the pipeline)"; bad=1
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
  done < <(find "$src" -type f \( -name '*.c' -o -name '*.h' \) | sort)
  return $bad
}

if [[ ${1:-} == --self-test ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/src/core" "$tmp/src/parse" "$tmp/src/store"
  printf '#include "core/span.h"\n' > "$tmp/src/core/a.c"
  printf '#include "event.h"\n#include "core/span.h"\n#include "parse/csv_int.h"\n' > "$tmp/src/parse/p.c"
  printf '#include "parse/parse.h"\n' > "$tmp/src/store/s.c"
  check_tree "$tmp/src" >/dev/null || { echo "self-test: a valid tree was rejected"; exit 1; }
  for planted in 'src/parse/p.c:#include "store/store.h"' 'src/core/a.c:#include "event.h"' \
                 'src/store/s.c:#include "parse/csv_int.h"' 'src/parse/p.c:#include "cmd/cmd.h"'; do
    file=${planted%%:*}
    cp "$tmp/$file" "$tmp/$file.orig"
    echo "${planted#*:}" >> "$tmp/$file"
    if check_tree "$tmp/src" >/dev/null; then
      echo "self-test: violation not caught: ${planted#*:} in $file"
      exit 1
    fi
    mv "$tmp/$file.orig" "$tmp/$file"
  done
  echo "self-test: 4 planted violations caught"
  exit 0
fi

if check_tree "${1:-$root/src}"; then
  echo "layout: ok"
else
  echo "layout: include direction violated (see scripts/check-layout.sh for the rule)"
  exit 1
fi
