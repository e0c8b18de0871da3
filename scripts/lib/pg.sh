# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# scripts/lib/pg.sh: start and stop a throw-away PostgreSQL 15 server for tests and fixtures.
#
# Source it from bash (it sets no shell options; the functions work under `set -euo pipefail`):
#
#   . "$repo/scripts/lib/pg.sh"
#   tmp=$(mktemp -d)
#   trap 'pg_destroy' EXIT                  # stops the server and removes $tmp
#   pg_start "$tmp" "log_destination = 'csvlog'" "log_min_duration_statement = 0"
#   pg_sql postgres 'CREATE DATABASE app'   # psql -X -qAt -v ON_ERROR_STOP=1 -d app -c ...
#   pg_psql -d app <script.sql               # plain psql (no ON_ERROR_STOP)
#   pg_bench -i -s 1 app
#   pg_stop                                 # fast shutdown: every log line is flushed
#   ls "$PG_LOGDIR"                          # postgresql.log (+ .csv / .json)
#
# pg_start exports PGDATA, PGHOST (the private unix-socket directory), PGPORT, PGUSER=postgres
# and PG_BASEDIR/PG_LOGDIR. Clients reach the server either through $PGHOST or through TCP on
# 127.0.0.1:$PGPORT (the server listens on loopback only, authentication is "trust").
#
# Running as root: PostgreSQL refuses to run as root, so every server and client command goes
# through pg_as, which uses `runuser -u $PG_TEST_USER --` (system user "pgsift-test", created on
# first use). That user cannot read root's private files: feed SQL on stdin (`pg_psql <file`, the
# redirection is done by the calling shell) or give it files inside $PG_BASEDIR that are
# world-readable. As a normal user the commands run directly.
#
# Settings (environment, read at call time):
#   PG_BINDIR         PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   PG_TEST_USER      unprivileged user used when running as root (default pgsift-test)
#   PG_WAIT_BIN_SECS  how long pg_wait_bins waits for the binaries to appear (default 180),
#                     e.g. while apt is still installing postgresql-15
#
# Defaults written to postgresql.conf by pg_start (the caller's lines come after them, and in
# postgresql.conf the last setting wins, so callers can override any of them except port and
# unix_socket_directories): listen_addresses='127.0.0.1', lc_messages='C', log_timezone and
# timezone 'UTC', logging_collector=on, log_directory='log', log_filename='postgresql.log', no
# rotation (log_rotation_age=0, log_rotation_size=0). With log_destination including csvlog or
# jsonlog the collector writes postgresql.csv and postgresql.json next to postgresql.log.

if [ -n "${PGSIFT_PG_SH_LOADED:-}" ]; then
	return 0
fi
PGSIFT_PG_SH_LOADED=1

: "${PG_BINDIR:=/usr/lib/postgresql/15/bin}"
: "${PG_TEST_USER:=pgsift-test}"

pg__die() {
	printf 'pg.sh: %s\n' "$*" >&2
	return 1
}

pg__is_root() {
	[ "$(id -u)" -eq 0 ]
}

# pg_wait_bins: wait until initdb, pg_ctl, postgres, psql and pgbench exist in $PG_BINDIR.
# Returns 1 with a message when they do not appear within $PG_WAIT_BIN_SECS seconds.
pg_wait_bins() {
	local limit=${PG_WAIT_BIN_SECS:-180} waited=0 b missing
	while :; do
		missing=
		for b in initdb pg_ctl postgres psql pgbench; do
			[ -x "$PG_BINDIR/$b" ] || missing="$missing $b"
		done
		[ -z "$missing" ] && return 0
		if [ "$waited" -ge "$limit" ]; then
			pg__die "PostgreSQL binaries missing in '$PG_BINDIR':$missing (install postgresql-15, e.g. scripts/install-deps.sh)"
			return 1
		fi
		if [ $((waited % 15)) -eq 0 ]; then
			printf 'pg.sh: waiting for%s in %s (%ss/%ss)\n' "$missing" "$PG_BINDIR" "$waited" "$limit" >&2
		fi
		sleep 1
		waited=$((waited + 1))
	done
}

# pg_ensure_user: create the system user $PG_TEST_USER if it does not exist (root only).
pg_ensure_user() {
	pg__is_root || return 0
	id -u "$PG_TEST_USER" >/dev/null 2>&1 && return 0
	local nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/bin/false
	useradd --system --no-create-home --home-dir /nonexistent --shell "$nologin" \
		--user-group "$PG_TEST_USER" >/dev/null 2>&1 ||
		id -u "$PG_TEST_USER" >/dev/null 2>&1 || # created concurrently by another test
		pg__die "cannot create user '$PG_TEST_USER'"
}

# pg_as CMD [ARGS...]: run a command as the server's owner (runuser when root, directly
# otherwise). When root, the command runs in $PG_BASEDIR (or /) because root's current
# directory is usually not accessible to the unprivileged user.
pg_as() {
	if pg__is_root; then
		(cd "${PG_BASEDIR:-/}" && exec runuser -u "$PG_TEST_USER" -- "$@")
	else
		"$@"
	fi
}

# pg__port_free PORT: true when a TCP listener can be bound to 127.0.0.1:PORT right now.
pg__port_free() {
	local port=$1
	if command -v perl >/dev/null 2>&1; then
		perl -MIO::Socket::INET -e '
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
				Proto => "tcp", Listen => 1, ReuseAddr => 1);
			exit($s ? 0 : 1);' "$port" 2>/dev/null
		return
	fi
	# No perl: nothing listening according to ss, and nothing answering a connect.
	if command -v ss >/dev/null 2>&1 && ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
		return 1
	fi
	! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# pg_free_port: print a TCP port that is free on 127.0.0.1, picked at random in 20000-31999
# (below Linux's default ephemeral range, so outgoing connections do not take it meanwhile).
# pg_start retries with another port if the server still fails to bind it.
pg_free_port() {
	local i port
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if pg__port_free "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	pg__die "no free TCP port found on 127.0.0.1"
}

# pg_start DIR [CONF_LINE...]: initdb a new cluster in DIR/data (DIR is created if needed and,
# when root, handed to $PG_TEST_USER), append the defaults and CONF_LINEs to postgresql.conf,
# start it on a free loopback port with its socket in DIR/sock, and export PGDATA PGHOST PGPORT
# PGUSER PG_BASEDIR PG_LOGDIR. The postmaster's own stderr goes to DIR/postmaster.log.
pg_start() {
	if [ $# -lt 1 ]; then
		pg__die "usage: pg_start DIR [postgresql.conf line...]"
		return 2
	fi
	local base=$1 line port try
	shift
	pg_wait_bins || return 1
	mkdir -p "$base" || return 1
	base=$(cd "$base" && pwd -P) || return 1
	if [ -e "$base/data" ]; then
		pg__die "'$base/data' already exists; give pg_start an empty directory"
		return 1
	fi
	mkdir -p "$base/sock" || return 1
	if pg__is_root; then
		pg_ensure_user || return 1
		chown "$PG_TEST_USER:" "$base" "$base/sock" || return 1
		if ! runuser -u "$PG_TEST_USER" -- test -w "$base/sock"; then
			pg__die "'$base' is not reachable by user $PG_TEST_USER: every parent directory needs o+x (mktemp -d makes 0700 directories: chmod 711 them)"
			return 1
		fi
	fi
	export PG_BASEDIR="$base"
	export PGDATA="$base/data"
	if ! pg_as "$PG_BINDIR/initdb" -D "$PGDATA" --nosync --auth=trust -U postgres -E UTF8 \
		--locale=C >"$base/initdb.log" 2>&1; then
		cat "$base/initdb.log" >&2
		pg__die "initdb failed"
		return 1
	fi
	port=$(pg_free_port) || return 1
	{
		printf '\n# ---- added by scripts/lib/pg.sh (defaults) ----\n'
		printf '%s\n' \
			"listen_addresses = '127.0.0.1'" \
			"port = $port" \
			"unix_socket_directories = '$base/sock'" \
			"lc_messages = 'C'" \
			"log_timezone = 'UTC'" \
			"timezone = 'UTC'" \
			"logging_collector = on" \
			"log_directory = 'log'" \
			"log_filename = 'postgresql.log'" \
			"log_rotation_age = 0" \
			"log_rotation_size = 0"
		if [ $# -gt 0 ]; then
			printf '# ---- added by the caller of pg_start ----\n'
			for line in "$@"; do
				printf '%s\n' "$line"
			done
		fi
	} >>"$PGDATA/postgresql.conf" || return 1
	for ((try = 1; ; try++)); do
		: >"$base/postmaster.log"
		[ "$(id -u)" -ne 0 ] || chown "$PG_TEST_USER:" "$base/postmaster.log"
		if pg_as "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$base/postmaster.log" -w -t 60 -s \
			start >"$base/pg_ctl.out" 2>&1; then
			break
		fi
		if [ "$try" -lt 5 ] && grep -qE 'could not bind|Address already in use' \
			"$base/postmaster.log" "$PGDATA/log/postgresql.log" 2>/dev/null; then
			pg_as "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m immediate -w -s stop >/dev/null 2>&1 || true
			port=$(pg_free_port) || return 1
			printf 'port = %s\n' "$port" >>"$PGDATA/postgresql.conf"
			continue
		fi
		cat "$base/pg_ctl.out" "$base/postmaster.log" >&2
		[ -f "$PGDATA/log/postgresql.log" ] && tail -n 20 "$PGDATA/log/postgresql.log" >&2
		pg__die "server did not start (see above)"
		return 1
	done
	export PGHOST="$base/sock"
	export PGPORT="$port"
	export PGUSER=postgres
	export PG_LOGDIR="$PGDATA/log"
	return 0
}

# pg_running: true when the server started by pg_start is up.
pg_running() {
	[ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ] &&
		pg_as "$PG_BINDIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

# pg_stop: fast shutdown and wait (so the collector flushes every log file). No-op when no
# server is running; falls back to an immediate shutdown if the fast one does not finish.
pg_stop() {
	[ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ] || return 0
	pg_as "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m fast -w -t 60 -s stop >/dev/null 2>&1 && return 0
	pg_as "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m immediate -w -t 30 -s stop >/dev/null 2>&1 && return 1
	pg__die "could not stop the server in '$PGDATA'"
}

# pg_destroy: pg_stop, then remove the directory given to pg_start. Meant for `trap ... EXIT`.
pg_destroy() {
	pg_stop || true
	if [ -n "${PG_BASEDIR:-}" ] && [ -d "$PG_BASEDIR" ]; then
		rm -rf -- "$PG_BASEDIR"
	fi
	unset PG_BASEDIR PG_LOGDIR PGDATA PGHOST PGPORT
	return 0
}

# pg_psql ARGS...: psql (no psqlrc) against the running server; -d DB or a conninfo selects it.
pg_psql() {
	pg_as "$PG_BINDIR/psql" -X "$@"
}

# pg_sql DB SQL...: run SQL strictly (stop on the first error, exit status 3) and print rows
# unaligned, tuples only.
pg_sql() {
	local db=$1
	shift
	pg_as "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" -c "$*"
}

# pg_bench ARGS...: pgbench against the running server.
pg_bench() {
	pg_as "$PG_BINDIR/pgbench" "$@"
}

# pg_wait_for SECONDS CMD [ARGS...]: poll CMD every 0.1 s until it succeeds; 1 on timeout.
pg_wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
