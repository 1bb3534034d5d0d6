#!/usr/bin/env bash
# The steps of the miglint GitHub Action (action.yml), kept here so they
# can be run and tested outside GitHub.
#
#   scripts/action.sh install   # puts miglint on PATH (GITHUB_PATH)
#   scripts/action.sh run       # lints, prints annotations, writes the job
#                               # summary, SARIF, and the pull request comment
#
# Inputs come as INPUT_* variables (set by action.yml): PATH, CONFIG, BASE,
# CHANGED_ONLY, SARIF_FILE, VERSION, COMMENT, GITHUB_TOKEN. MIGLINT names
# the binary to run (default: miglint on PATH). GITHUB_API_URL, when set,
# is where the comment goes (the Action gets it from the runner).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
marker='<!-- miglint -->'

# Keeps one pull request comment (the one starting with $marker) up to date
# with the Markdown in $1: updated when it exists, created when there are
# findings. A failure (a fork's read-only token) is a warning, not a failed
# lint.
comment() {
    local summary="$1" token="${INPUT_GITHUB_TOKEN:-}" pr api existing page ids
    if [ -z "$token" ]; then
        echo "::warning title=miglint::comment: no token; pass github-token (the workflow needs pull-requests: write)"
        return 0
    fi
    pr="$(jq -r '.pull_request.number // empty' "${GITHUB_EVENT_PATH:-/dev/null}" 2>/dev/null || true)"
    if [ -z "$pr" ]; then
        echo "miglint: comment: not a pull request event, no comment written" >&2
        return 0
    fi
    api="${GITHUB_API_URL:-https://api.github.com}/repos/${GITHUB_REPOSITORY:?}"
    request() {
        curl -fsS -H "Authorization: Bearer $token" -H "Accept: application/vnd.github+json" \
            -H "X-GitHub-Api-Version: 2022-11-28" -H "Expect:" "$@"
    }
    existing=""
    for page in 1 2 3 4 5 6 7 8 9 10; do
        ids="$(request "$api/issues/$pr/comments?per_page=100&page=$page")" || {
            echo "::warning title=miglint::comment: cannot list the pull request's comments"
            return 0
        }
        existing="$(jq -r --arg m "$marker" '[.[] | select(.body | startswith($m)) | .id][0] // empty' <<<"$ids")"
        [ -n "$existing" ] || [ "$(jq length <<<"$ids")" -lt 100 ] && break
    done
    local payload
    payload="$(jq -Rs '{body: .}' <"$summary")"
    if [ -n "$existing" ]; then
        request -X PATCH "$api/issues/comments/$existing" -d "$payload" >/dev/null ||
            echo "::warning title=miglint::comment: cannot update comment $existing"
    elif ! grep -q 'all checks passed' "$summary"; then
        request -X POST "$api/issues/$pr/comments" -d "$payload" >/dev/null ||
            echo "::warning title=miglint::comment: cannot comment on pull request $pr"
    fi
}

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
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ] || [ "${INPUT_COMMENT:-false}" = "true" ]; then
        summary="$(mktemp)"
        md_status=0
        "$miglint" "${args[@]}" --format markdown >"$summary" || md_status=$?
        [ "$md_status" -le 1 ] || exit "$md_status"
        [ -z "${GITHUB_STEP_SUMMARY:-}" ] || cat "$summary" >>"$GITHUB_STEP_SUMMARY"
        [ "${INPUT_COMMENT:-false}" != "true" ] || comment "$summary"
        rm -f "$summary"
    fi
    exit "$status"
    ;;
*)
    echo "usage: scripts/action.sh install|run" >&2
    exit 2
    ;;
esac
