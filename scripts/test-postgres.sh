# shellcheck shell=bash
# Source this file (`source scripts/test-postgres.sh`) before running the
# PostgreSQL tests. It leaves HEARTH_TEST_DATABASE_URL pointing at a server
# the tests may create schemas on:
#
#   1. HEARTH_TEST_DATABASE_URL already set: kept as it is.
#   2. A server answers on 127.0.0.1:5432 (user postgres, database test,
#      trust auth): that one.
#   3. Otherwise a throwaway cluster: PostgreSQL is installed with apt-get
#      if missing, initdb'd into a temporary directory, started on a free
#      loopback port, and stopped and removed when the sourcing shell exits.
#
# HEARTH_PG_PROBE_HOST and HEARTH_PG_PROBE_PORT move the probe of step 2
# (point it at a port where nothing listens to exercise step 3).
#
# It is written to be sourced by scripts that use `set -euo pipefail`: every
# command that may fail is tested, and it returns non-zero instead of exiting.

hearth_pg_log() { printf 'test-postgres: %s\n' "$*" >&2; }

# hearth_pg_answers URL: does a server at URL accept a query? Without a
# PostgreSQL client, fall back to pg_isready, then to a bare TCP connect.
hearth_pg_answers() {
	local url=$1 host=$2 port=$3
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 psql "$url" -Atqc 'select 1' >/dev/null 2>&1
	elif command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$host" -p "$port" -U postgres -d test -t 3
	else
		timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
	fi
}

# hearth_pg_bindir prints the newest installed PostgreSQL bin directory, or
# nothing.
hearth_pg_bindir() {
	local d best=""
	# sort -V, unlike the glob, puts 9.6 before 15.
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then best=$d; fi
	done
	if [ -n "$best" ]; then printf '%s\n' "$best"; fi
}

# hearth_pg_free_port prints a loopback port nothing listens on.
hearth_pg_free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 30000))
		if ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	return 1
}

# hearth_pg_as_owner runs a command as the cluster's owner: initdb and
# postgres refuse to run as root.
hearth_pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

hearth_pg_stop() {
	if [ -n "${HEARTH_PG_CLUSTER_DIR:-}" ] && [ -d "$HEARTH_PG_CLUSTER_DIR" ]; then
		hearth_pg_as_owner "$HEARTH_PG_BINDIR/pg_ctl" -D "$HEARTH_PG_CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$HEARTH_PG_CLUSTER_DIR"
	fi
}

# hearth_pg_start_cluster installs PostgreSQL if needed, starts a throwaway
# cluster, creates database test and exports the URL.
hearth_pg_start_cluster() {
	local bindir dir port prev
	bindir=$(hearth_pg_bindir)
	if [ -z "$bindir" ]; then
		hearth_pg_log "no PostgreSQL found; installing it with apt-get"
		local sudo=""
		if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
		if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null; }; then
			hearth_pg_log "apt-get install postgresql failed"
			return 1
		fi
		bindir=$(hearth_pg_bindir)
		if [ -z "$bindir" ]; then
			hearth_pg_log "PostgreSQL installed but no /usr/lib/postgresql/*/bin found"
			return 1
		fi
	fi
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres || return 1
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/hearth-pg.XXXXXX") || return 1
	if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir" || return 1; fi
	if ! port=$(hearth_pg_free_port); then
		hearth_pg_log "no free port found"
		rm -rf "$dir"
		return 1
	fi
	export HEARTH_PG_CLUSTER_DIR=$dir HEARTH_PG_BINDIR=$bindir
	# Chain any EXIT trap the caller already has instead of replacing it.
	# trap -p prints `trap -- 'command' EXIT`, quoted for eval.
	prev=$(trap -p EXIT)
	if [ -n "$prev" ]; then
		local -a words
		eval "words=($prev)"
		prev=${words[2]}
	fi
	# shellcheck disable=SC2064 # expand prev now, on purpose
	trap "hearth_pg_stop; ${prev}" EXIT

	if ! hearth_pg_as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-instructions \
		>"$dir/initdb.log" 2>&1; then
		hearth_pg_log "initdb failed:"
		cat "$dir/initdb.log" >&2
		return 1
	fi
	if ! hearth_pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-h 127.0.0.1 -p $port -k $dir" start >/dev/null; then
		hearth_pg_log "pg_ctl start failed:"
		cat "$dir/server.log" >&2
		return 1
	fi
	if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc 'CREATE DATABASE test' >/dev/null; then
		hearth_pg_log "CREATE DATABASE test failed"
		return 1
	fi
	export HEARTH_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
	hearth_pg_log "started a throwaway PostgreSQL ($bindir) on 127.0.0.1:$port in $dir"
}

hearth_pg_setup() {
	local host=${HEARTH_PG_PROBE_HOST:-127.0.0.1} port=${HEARTH_PG_PROBE_PORT:-5432} url
	if [ -n "${HEARTH_TEST_DATABASE_URL:-}" ]; then
		hearth_pg_log "using HEARTH_TEST_DATABASE_URL from the environment"
		return 0
	fi
	url="postgres://postgres@$host:$port/test?sslmode=disable"
	if hearth_pg_answers "$url" "$host" "$port"; then
		export HEARTH_TEST_DATABASE_URL=$url
		hearth_pg_log "using the server on $host:$port"
		return 0
	fi
	hearth_pg_start_cluster
}

# HEARTH_PG_FUNCTIONS_ONLY=1 defines the functions without finding a
# server (scripts/bench on SQLite wants hearth_pg_free_port only).
if [ -z "${HEARTH_PG_FUNCTIONS_ONLY:-}" ]; then
	hearth_pg_setup
fi
