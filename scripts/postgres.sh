#!/usr/bin/env bash
# A throwaway PostgreSQL 16.2 server for the tests, from the PyPI wheel
# pgserver 0.1.4 (it ships the postgres binaries), unpacked once into
# .cache/postgres-16.2 (ignored by git; kept between runs).
#
#   scripts/postgres.sh start DATADIR SOCKETDIR   # prints the SQLAlchemy URL
#   scripts/postgres.sh stop DATADIR
#   scripts/postgres.sh url SOCKETDIR             # the URL again
#
# The server listens on a unix socket in SOCKETDIR only (no TCP), as user
# "postgres" with no password, database "postgres". Running start twice, or
# stop on a stopped server, is harmless. PostgreSQL refuses to run as root,
# so under root the server runs as the user "nobody": DATADIR and SOCKETDIR
# are handed to nobody, and every folder above them must let others in
# (so not under /root). The URL needs the driver psycopg 3 (psycopg[binary]).
set -euo pipefail
cd "$(dirname "$0")/.."

# One fixed x86_64 Linux wheel, checked by its hash, whatever the local Python.
WHEEL="pgserver==0.1.4"
SHA256=d595789b47624a3d963aa9aa6359da9be31beb7e61f1a45541953242068b8813
CACHE="$(pwd)/.cache/postgres-16.2"
BIN="$CACHE/pgserver/pginstall/bin"

install() {
    [ -f "$CACHE/.installed" ] && return
    echo "== unpacking PostgreSQL 16.2 from $WHEEL (once)" >&2
    rm -rf "$CACHE"
    # pip keeps the binaries' execute bits and the pgserver.libs folder next
    # to pgserver/, where psql and initdb look for their libpq.
    # The test command's .venv has pip; a bare system Python may not.
    local python=python3
    [ -x .venv/bin/python ] && python=.venv/bin/python
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --platform manylinux2014_x86_64 \
        --python-version 3.11 --implementation cp --abi cp311 \
        --target "$CACHE" --require-hashes \
        -r <(echo "$WHEEL --hash=sha256:$SHA256") >&2
    touch "$CACHE/.installed"
}

# Runs a server-side command as the owner of the data: as ourselves, or as
# nobody when we are root.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$@")
    else
        "$@"
    fi
}

url() {
    echo "postgresql+psycopg://postgres@/postgres?host=$1"
}

case "${1:-}" in
start)
    [ $# = 3 ] || { echo "usage: $0 start DATADIR SOCKETDIR" >&2; exit 2; }
    install
    mkdir -p "$2" "$3"
    data=$(cd "$2" && pwd) sock=$(cd "$3" && pwd)
    if [ "$(id -u)" = 0 ]; then chown nobody:nogroup "$data" "$sock"; fi
    chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
        # Locale C and UTF-8 so the machine's locale settings don't matter;
        # no fsync, as the data is thrown away.
        as_owner "$BIN/initdb" -D "$data" -U postgres --auth=trust \
            --locale=C -E UTF8 --no-sync >&2
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$BIN/pg_ctl" -D "$data" -l "$data/server.log" -w start \
            -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c fsync=off" >&2 \
            || { cat "$data/server.log" >&2; exit 1; }
    fi
    url "$sock"
    ;;
stop)
    [ $# = 2 ] || { echo "usage: $0 stop DATADIR" >&2; exit 2; }
    [ -f "$2/PG_VERSION" ] || exit 0
    data=$(cd "$2" && pwd)
    if as_owner "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$BIN/pg_ctl" -D "$data" -m fast -w stop >&2
    fi
    ;;
url)
    [ $# = 2 ] || { echo "usage: $0 url SOCKETDIR" >&2; exit 2; }
    url "$(cd "$2" && pwd)"
    ;;
*)
    echo "usage: $0 start DATADIR SOCKETDIR | stop DATADIR | url SOCKETDIR" >&2
    exit 2
    ;;
esac
