#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Docs agree with code (pgbouncer's optscan.sh): every command in the command table
# (as `pgsift --help` lists it), every long option of every command (as
# `pgsift help CMD` lists it) and every table in schema/*.sql must be mentioned in
# README.md or docs/*.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pgsift=${PGSIFT:-$root/build/test/pgsift}
shopt -s nullglob
docs=$(cat "$root/README.md" "$root"/docs/*.md)
bad=0

cmds=$("$pgsift" --help | awk '/^Commands:/{on=1; next} /^$/{on=0} on{print $1}')
[[ -n $cmds ]] || { echo "docs: 'pgsift --help' lists no commands"; exit 1; }
for c in $cmds; do
  if ! grep -qE "pgsift $c([^a-z_-]|\$)" <<<"$docs"; then
    echo "docs: command '$c' is in the command table but not in README.md or docs/"
    bad=1
  fi
  usage=$("$pgsift" help "$c") || { echo "docs: 'pgsift help $c' failed"; bad=1; continue; }
  for o in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$usage" | sort -u); do
    if ! grep -qF -- "$o" <<<"$docs"; then
      echo "docs: option '$o' of 'pgsift $c' is not documented in README.md or docs/"
      bad=1
    fi
  done
done
for t in $(cat /dev/null "$root"/schema/*.sql | grep -oiE 'create table( if not exists)? [a-z_]+' | awk '{print $NF}' | sort -u); do
  if ! grep -qw "$t" <<<"$docs"; then
    echo "docs: table '$t' (schema/) is not documented in README.md or docs/"
    bad=1
  fi
done
((bad == 0)) && echo "docs: ok"
exit $bad
