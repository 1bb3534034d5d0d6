#!/usr/bin/env bash
# The project's test command: everything a fresh machine needs, then every test.
#
#   scripts/test.sh
#
# Needs only a Rust toolchain (cargo); crates come from the registry and
# Cargo.lock pins them.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Snapshots are compared, never rewritten, here.
export INSTA_UPDATE=no

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test"
cargo test --locked
