#!/usr/bin/env bash
# The steps of the miglint GitHub Action (action.yml), kept here so they
# can be run and tested outside GitHub.
#
#   scripts/action.sh install   # puts miglint on PATH (GITHUB_PATH)
#   scripts/action.sh run       # lints, prints annotations, writes SARIF
#
# Inputs come as INPUT_* variables (set by action.yml): PATH, CONFIG, BASE,
# CHANGED_ONLY, SARIF_FILE, VERSION. MIGLINT names the binary to run
# (default: miglint on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

case "${1:-}" in
install)
    root="${RUNNER_TEMP:-/tmp}/miglint"
    if [ -n "${INPUT_VERSION:-}" ]; then
        cargo install --locked --root "$root" miglint --version "$INPUT_VERSION"
    else
        # The action's own checkout: the version the workflow pinned with `uses:`.
        cargo install --locked --root "$root" --path "$here"
    fi
    echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
    ;;
run)
    miglint="${MIGLINT:-miglint}"
    args=(lint "${INPUT_PATH:-.}")
    [ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
    [ -n "${INPUT_BASE:-}" ] && args+=(--base "$INPUT_BASE")
    [ "${INPUT_CHANGED_ONLY:-false}" = "true" ] && args+=(--changed-only)
    status=0
    "$miglint" "${args[@]}" --format github || status=$?
    if [ -n "${INPUT_SARIF_FILE:-}" ]; then
        sarif_status=0
        "$miglint" "${args[@]}" --format sarif > "$INPUT_SARIF_FILE" || sarif_status=$?
        # 1 only means findings; 2 is a failure worth stopping for.
        [ "$sarif_status" -le 1 ] || exit "$sarif_status"
    fi
    exit "$status"
    ;;
*)
    echo "usage: scripts/action.sh install|run" >&2
    exit 2
    ;;
esac
