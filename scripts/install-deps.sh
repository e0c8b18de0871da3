#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages pgsift's build, tests and benchmarks need, when missing.
# Idempotent: when everything is there it only checks (no apt-get update, well under a
# second). Runs apt-get update once, only when it must install. Needs root to install.
set -euo pipefail

# Build: compiler, CMake, the libraries pgsift links. libisal-dev: ISA-L's igzip inflates
# .gz logs 2.8x faster than zlib (src/input/gz.c; zlib decodes pipes and damaged members).
build_pkgs=(build-essential cmake pkg-config
  libpcre2-dev zlib1g-dev libisal-dev libsqlite3-dev libcurl4-openssl-dev libyaml-dev
  libxxhash-dev libjansson-dev libssl-dev)
# Tests and benchmarks: a real PostgreSQL 15 (contrib modules such as auto_explain
# and pg_stat_statements ship in postgresql-15) for fixtures and live tests, libpg_query
# as the normalizer's oracle, clang for fuzzing, pgBadger to compare with, sqlite3 and
# jq for assertions in shell tests, bc for the benchmarks' sums, xmllint (libxml2-utils) to
# parse the HTML report and its SVG charts, headless chromium to load the report in a
# real browser (installs in about 15 s; its test skips when it is absent).
test_pkgs=(postgresql-15 libpg-query-dev clang sqlite3 jq
  pgbadger bc gzip bzip2 procps iproute2 util-linux libxml2-utils chromium)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The postgresql-common postinst creates a default cluster; pgsift's tests never use
# it (they run their own server on a private port), so skip that step.
mkdir -p /etc/postgresql-common
if [[ ! -f /etc/postgresql-common/createcluster.conf ]] ||
   ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
fi
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" >/dev/null
