#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016  # backticks in printf formats are Markdown, not command substitution
# gen-syslog-fixtures.sh: regenerate tests/fixtures/pg15-syslog/ from a real PostgreSQL 15
# server logging through syslog, as a systemd host keeps it.
#
# usage: scripts/gen-syslog-fixtures.sh [--keep-tmp] [--out DIR]
#
# The chain is a Debian host's: PostgreSQL (log_destination = 'syslog,csvlog') writes to
# /dev/log, which is systemd-journald's socket; journald stores every message and forwards it
# to rsyslogd (ForwardToSyslog), which writes three files with its built-in templates. So one
# workload gives, for the same records:
#
#   csvlog.csv                the reference (PostgreSQL's own csvlog of the same records)
#   rsyslog-traditional.log   RSYSLOG_TraditionalFileFormat  (RFC 3164: "Nov 28 12:33:42 host ...")
#   rsyslog-fileformat.log    RSYSLOG_FileFormat             (RFC 3339, microseconds)
#   rsyslog-rfc5424.log       RSYSLOG_SyslogProtocol23Format (RFC 5424: "<134>1 ... postgres PID - -")
#   journal-<mode>.log        journalctl -o <mode>: short, short-precise, short-iso,
#                             short-iso-precise, short-full, short-unix
#
# Two runs: "prefixed" (log_line_prefix '%m [%p] %q%u@%d ': the prefix has the time) and "bare"
# (pgBadger's advice for syslog, 'user=%u,db=%d,app=%a,client=%h ': the time and the pid
# come from the syslog header). The workload (tests/fixtures/pg15-syslog/workload.sql, an
# input the script reads) has multi-line statements, a
# message longer than PostgreSQL's 900-byte syslog pieces, errors with their STATEMENT
# sub-line, and quoted text; tests/unit/test_syslog_fixtures.c checks that every file gives
# the csvlog's records.
#
# Needs root (journald and /dev/log), postgresql-15, rsyslog (`apt-get install rsyslog`: used
# only here, never by the build or the tests) and systemd's journald and journalctl. Refuses
# to run when /dev/log exists: a syslog daemon of the host would get the messages, and this
# script must not stop or reconfigure it. It starts its own journald (with a drop-in
# configuration, /etc/systemd/journald.conf.d/90-pgsift-fixtures.conf, removed at the end)
# and its own rsyslogd, and removes /dev/log and both at the end.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)
OUT="$REPO/tests/fixtures/pg15-syslog"
# shellcheck source-path=SCRIPTDIR source=lib/pg.sh
. "$SCRIPT_DIR/lib/pg.sh"

JOURNALD=/lib/systemd/systemd-journald
DROPIN=/etc/systemd/journald.conf.d/90-pgsift-fixtures.conf
JOURNAL_MODES=(short short-precise short-iso short-iso-precise short-full short-unix)

die() {
	printf 'gen-syslog-fixtures: %s\n' "$*" >&2
	exit 1
}
say() {
	printf 'gen-syslog-fixtures: %s\n' "$*" >&2
}

keep_tmp=0
while [ $# -gt 0 ]; do
	case $1 in
	--keep-tmp) keep_tmp=1 ;;
	--out)
		[ $# -gt 1 ] || die "option '--out' requires a directory"
		mkdir -p -- "$2"
		OUT=$(cd -- "$2" && pwd -P)
		shift
		;;
	-h | --help)
		sed -n '4,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$1' (accepted: --keep-tmp, --out DIR, --help)" ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || die "needs root: it starts journald and owns /dev/log for the run"
command -v rsyslogd >/dev/null || die "rsyslogd not found (apt-get install rsyslog)"
[ -x "$JOURNALD" ] || die "$JOURNALD not found (package systemd)"
command -v journalctl >/dev/null || die "journalctl not found (package systemd)"
if [ -e /dev/log ] || [ -L /dev/log ]; then
	die "/dev/log exists: a syslog daemon of this host owns it; run this on a host or container without one"
fi
if [ -e /run/systemd/journal/socket ] && pgrep -x systemd-journal >/dev/null; then
	die "systemd-journald is running already; run this where it is not"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-syslog.XXXXXX")
chmod 711 "$WORK"
RSYSLOG_PID=
JOURNALD_PID=

cleanup() {
	local rc=$?
	set +e
	pg_stop
	[ -n "$RSYSLOG_PID" ] && kill "$RSYSLOG_PID" 2>/dev/null
	[ -n "$JOURNALD_PID" ] && kill "$JOURNALD_PID" 2>/dev/null
	wait 2>/dev/null
	rm -f /dev/log "$DROPIN"
	rmdir /etc/systemd/journald.conf.d 2>/dev/null
	if [ "$keep_tmp" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf -- "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_wait_bins || exit 1

# journald: volatile storage, no rate limits, every message forwarded to rsyslog.
mkdir -p /etc/systemd/journald.conf.d /run/systemd/journal
cat >"$DROPIN" <<'EOF'
# written by pgsift scripts/gen-syslog-fixtures.sh for one run; removed at its end
[Journal]
Storage=volatile
RateLimitIntervalSec=0
ForwardToSyslog=yes
MaxLevelStore=debug
MaxLevelSyslog=debug
EOF
"$JOURNALD" >"$WORK/journald.out" 2>&1 &
JOURNALD_PID=$!
for _ in $(seq 50); do
	[ -S /run/systemd/journal/dev-log ] && break
	sleep 0.1
done
[ -S /run/systemd/journal/dev-log ] || die "journald did not create its sockets: $(cat "$WORK/journald.out")"
ln -s /run/systemd/journal/dev-log /dev/log

# rsyslogd reads what journald forwards, as on a Debian host.
mkdir -p "$WORK/rsyslog"
cat >"$WORK/rsyslog/rsyslog.conf" <<EOF
global(workDirectory="$WORK/rsyslog")
module(load="imuxsock" SysSock.Name="/run/systemd/journal/syslog" SysSock.RateLimit.Interval="0")
if \$programname == 'postgres' then {
  action(type="omfile" file="$WORK/rsyslog/traditional.log" template="RSYSLOG_TraditionalFileFormat")
  action(type="omfile" file="$WORK/rsyslog/fileformat.log" template="RSYSLOG_FileFormat")
  action(type="omfile" file="$WORK/rsyslog/rfc5424.log" template="RSYSLOG_SyslogProtocol23Format")
  stop
}
EOF
rsyslogd -n -f "$WORK/rsyslog/rsyslog.conf" -i "$WORK/rsyslog/rsyslogd.pid" \
	>"$WORK/rsyslog/rsyslogd.out" 2>&1 &
RSYSLOG_PID=$!
for _ in $(seq 50); do
	[ -S /run/systemd/journal/syslog ] && break
	sleep 0.1
done
[ -S /run/systemd/journal/syslog ] || die "rsyslogd did not listen: $(cat "$WORK/rsyslog/rsyslogd.out")"

# The workload: the same for both runs, kept with the fixtures (a psql script).
cp "$REPO/tests/fixtures/pg15-syslog/workload.sql" "$WORK/workload.sql"
chmod 644 "$WORK/workload.sql"

run() {
	local name=$1 prefix=$2 since dir
	dir="$WORK/$name"
	mkdir -p "$dir"
	chmod 711 "$dir"
	say "run '$name': log_line_prefix '$prefix'"
	since=$(date '+%Y-%m-%d %H:%M:%S')
	sleep 1
	pg_start "$dir/pg" \
		"log_destination = 'syslog,csvlog'" \
		"log_line_prefix = '$prefix'" \
		"syslog_ident = 'postgres'" \
		"log_min_duration_statement = 0" \
		"log_connections = on" \
		"log_disconnections = on" \
		"log_checkpoints = on"
	pg_sql postgres 'CREATE DATABASE shop'
	pg_psql -X -q -d shop <"$WORK/workload.sql" >"$dir/client.out" 2>&1 || true
	pg_stop
	sleep 1 # rsyslog and journald write what they have
	local out="$OUT/$name"
	rm -rf -- "$out"
	mkdir -p "$out"
	cp "$PG_LOGDIR/postgresql.csv" "$out/csvlog.csv"
	for f in traditional fileformat rfc5424; do
		cp "$WORK/rsyslog/$f.log" "$out/rsyslog-$f.log"
		: >"$WORK/rsyslog/$f.log"
	done
	for m in "${JOURNAL_MODES[@]}"; do
		journalctl --no-pager -q -t postgres --since "$since" -o "$m" >"$out/journal-$m.log"
	done
	chmod 644 "$out"/*
	{
		printf '# pg15-syslog/%s\n\n' "$name"
		printf 'Generated by `scripts/gen-syslog-fixtures.sh` on %s with %s.\n\n' \
			"$(date -u '+%Y-%m-%d')" "$("$PG_BINDIR/postgres" --version)"
		printf -- "- log_line_prefix: \`%s\`\n" "$prefix"
		printf -- "- log_destination: \`syslog,csvlog\` (syslog_ident \`postgres\`, facility LOCAL0; syslog_sequence_numbers and syslog_split_messages on)\n"
		printf -- "- the chain: PostgreSQL -> /dev/log (systemd-journald %s) -> ForwardToSyslog -> %s\n" \
			"$(journalctl --version | head -n 1 | awk '{print $2}')" "$(rsyslogd -v | head -n 1 | awk '{print $1, $2}' | tr -d ,)"
		printf -- "- workload: ../workload.sql, sent by psql to database \`shop\`\n"
		printf -- "- records in csvlog.csv: %s lines\n" "$(wc -l <"$out/csvlog.csv")"
		printf '\nEvery file but csvlog.csv holds the same records through syslog; the test\n'
		printf '`tests/unit/test_syslog_fixtures.c` checks that each gives csvlog.csv'"'"'s records.\n'
	} >"$out/README.md"
	unset PG_BASEDIR PGDATA PGHOST PGPORT PG_LOGDIR
}

mkdir -p "$OUT"
run prefixed '%m [%p] %q%u@%d '
run bare 'user=%u,db=%d,app=%a,client=%h '
say "wrote $OUT"
