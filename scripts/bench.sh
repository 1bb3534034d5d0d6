#!/usr/bin/env bash
# Times the whole miglint binary on generated migration sets, then a
# pre-commit run and a language server keystroke on a 500-migration project.
#
#   scripts/bench.sh                 # 1,000 / 10,000 / 50,000 per flavour
#   SIZES="10000" FLAVOURS="alembic" scripts/bench.sh
#
# Reports wall time (hyperfine when installed, else the best of 5 runs),
# migrations/s, MB/s and peak memory (/usr/bin/time -v), all with
# --no-cache (every migration parsed, replayed and run in SQLite), then the
# wall time of a run with a warm cache (`warm ms`: nothing changed since the
# last run, so no migration is run in SQLite again). When `squawk` is on
# PATH (pip install squawk-cli), the 10,000 yoyo .sql files also go through
# squawk in the same run and the ratios are printed.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000 10000 50000"}
FLAVOURS=${FLAVOURS:-"alembic yoyo-sql yoyo-py diesel"}
RUNS=${RUNS:-10}
WORK=${BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$WORK"' EXIT

cargo build --release --locked --quiet --bin miglint --example gen-corpus
BIN=target/release/miglint
GEN=target/release/examples/gen-corpus

# Mean wall time in seconds of a command (output discarded).
time_cmd() {
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine -N -i -w 2 -r "$RUNS" --export-json "$WORK/h.json" "$*" >/dev/null 2>&1
        python3 -c "import json;print(json.load(open('$WORK/h.json'))['results'][0]['mean'])"
    else
        best=""
        for _ in 1 2 3 4 5; do
            s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
            t=$(echo "$e - $s" | bc)
            if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
        done
        echo "$best"
    fi
}

peak_mb() {
    { /usr/bin/time -v "$@" 2>&1 >/dev/null || true; } | awk '/Maximum resident/ {printf "%.0f", $6/1024}'
}

echo "machine: $(nproc) cores, $(uname -m); miglint $($BIN --version | cut -d' ' -f2)"
printf '%-9s %8s %9s %10s %12s %8s %9s %9s %9s\n' flavour migrations MB "time ms" "migr/s" "MB/s" "peak MB" "µs/migr" "warm ms"
for flavour in $FLAVOURS; do
    for n in $SIZES; do
        dir="$WORK/$flavour-$n"
        [ -d "$dir" ] || "$GEN" --flavour "$flavour" --count "$n" --out "$dir" >/dev/null
        bytes=$(du -sb "$dir/migrations" | cut -f1)
        secs=$(time_cmd "$BIN" lint "$dir" --format json --no-cache)
        peak=$(peak_mb "$BIN" lint "$dir" --format json --no-cache)
        # hyperfine's warm-up runs fill the cache.
        warm=$(time_cmd "$BIN" lint "$dir" --format json --cache-dir "$WORK/cache")
        python3 - "$flavour" "$n" "$bytes" "$secs" "$peak" "$warm" <<'PY'
import sys
flavour, n, b, s, peak, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], float(sys.argv[6])
print(f"{flavour:<9} {n:>8} {b/1e6:>9.1f} {s*1000:>10.0f} {n/s:>12,.0f} {b/1e6/s:>8.1f} {peak:>9} {s*1e6/n:>9.1f} {w*1000:>9.0f}")
PY
    done
done

if command -v squawk >/dev/null 2>&1; then
    dir="$WORK/yoyo-sql-10000"
    [ -d "$dir" ] || "$GEN" --flavour yoyo-sql --count 10000 --out "$dir" >/dev/null
    cold=$(time_cmd "$BIN" lint "$dir" --format json --no-cache)
    warm=$(time_cmd "$BIN" lint "$dir" --format json --cache-dir "$WORK/cache")
    theirs=$(time_cmd squawk "$dir/migrations/*.sql")
    python3 -c "print(f'squawk on the same 10,000 .sql files: {$theirs*1000:.0f} ms; miglint {$cold*1000:.0f} ms without cache ({$theirs/$cold:.1f}x faster), {$warm*1000:.0f} ms with a warm cache ({$theirs/$warm:.1f}x faster)')"
fi

# A pre-commit run: `lint --staged` on one staged migration of a repository
# with 500 migrations and 200 application files (models.py among them).
hook="$WORK/hook"
if [ ! -d "$hook" ]; then
    "$GEN" --flavour alembic --count 500 --out "$hook" >/dev/null
    # Application modules with a few queries each.
    for k in $(seq 1 199); do head -7 "$hook/app/queries_0.py" > "$hook/app/view_$k.py"; done
    printf 'from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n' > "$hook/app/models.py"
    git -C "$hook" init -q -b main
    git -C "$hook" add -A
    git -C "$hook" -c user.name=bench -c user.email=bench@example.com commit -q -m corpus
    last=$(ls "$hook/migrations/versions" | sort | tail -1)
    printf '\n# touched\n' >> "$hook/migrations/versions/$last"
    git -C "$hook" add "migrations/versions/$last"
fi
last=$(ls "$hook/migrations/versions" | sort | tail -1)
apps=$(ls "$hook/app" | wc -l)
cold=$(cd "$hook" && time_cmd "$OLDPWD/$BIN" lint --staged --no-cache "migrations/versions/$last")
warm=$(cd "$hook" && time_cmd "$OLDPWD/$BIN" lint --staged "migrations/versions/$last")
python3 -c "print(f'pre-commit: lint --staged, 500 migrations + $apps application files: {$cold*1000:.1f} ms without cache, {$warm*1000:.1f} ms with a warm cache')"

# The language server on the same project: a keystroke in the middle
# migration to the diagnostics published for it (scripts/bench_server.py;
# pass two binaries there to compare them interleaved).
python3 scripts/bench_server.py --miglint "$BIN" --keystrokes "${KEYSTROKES:-200}" "$hook"
