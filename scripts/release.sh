#!/usr/bin/env bash
# The steps of the release workflow (.github/workflows/release.yml), kept
# here so they can be run and tested outside GitHub (tests/workflows.rs).
#
#   scripts/release.sh check TAG                  # TAG is v<Cargo.toml version>, and the
#                                                 # changelog and hook repository agree
#   scripts/release.sh wheel TARGET [--zig] [COMPATIBILITY]
#   scripts/release.sh sdist
#   scripts/release.sh binaries WHEELS_DIR OUT    # the binary of each wheel, archived,
#                                                 # with SHA256SUMS
#   scripts/release.sh notes TAG                  # the changelog's section for TAG
#   scripts/release.sh hook TAG                   # pushes the hook repository's new
#                                                 # version (HOOK_REPOSITORY, HOOK_TOKEN)
#
# The version lives in one place, Cargo.toml; pyproject.toml takes it from
# there (maturin), and the hook repository's copy is checked against it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned like requirements-dev.txt.
MATURIN=maturin==1.16.0
ZIGLANG=ziglang==0.13.0
RUST=1.95

version() {
    sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1
}

python() {
    if command -v python3 >/dev/null; then python3 "$@"; else python "$@"; fi
}

fail() {
    echo "release: $*" >&2
    exit 1
}

case "${1:-}" in
check)
    tag="${2:?usage: scripts/release.sh check TAG}"
    v="$(version)"
    [ "$tag" = "v$v" ] || fail "tag $tag does not name Cargo.toml's version $v (tag v$v)"
    grep -q "^## $v\b" CHANGELOG.md || fail "CHANGELOG.md has no section \"## $v\""
    hook="$(sed -n 's/^version = "\(.*\)"$/\1/p' pre-commit-python/pyproject.toml)"
    [ "$hook" = "$v" ] || fail "pre-commit-python/pyproject.toml is at $hook, not $v"
    echo "release: $tag is miglint $v"
    ;;
wheel)
    target="${2:?usage: scripts/release.sh wheel TARGET [--zig] [COMPATIBILITY]}"
    zig="${3:-}"
    compat="${4:-}"
    rustup toolchain install "$RUST" --profile minimal --target "$target"
    rustup default "$RUST"
    python -m pip install --user "$MATURIN" ${zig:+"$ZIGLANG"}
    python -m maturin build --release --locked --target "$target" ${zig:+--zig} \
        ${compat:+--compatibility "$compat"} --out dist
    ;;
sdist)
    python -m pip install --user "$MATURIN"
    python -m maturin sdist --out dist
    ;;
binaries)
    wheels="${2:?usage: scripts/release.sh binaries WHEELS_DIR OUT}"
    out="${3:?usage: scripts/release.sh binaries WHEELS_DIR OUT}"
    mkdir -p "$out"
    python - "$wheels" "$out" <<'PY'
import pathlib, shutil, sys, tarfile, zipfile

wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
found = 0
for wheel in sorted(wheels.glob("*.whl")):
    # miglint-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
    name, version, _, _, platform = wheel.stem.split("-")
    platform = platform.split(".")[0]
    with zipfile.ZipFile(wheel) as z:
        scripts = [n for n in z.namelist() if "/scripts/" in n and n.rsplit("/", 1)[1] in ("miglint", "miglint.exe")]
        if len(scripts) != 1:
            sys.exit(f"release: {wheel.name} holds {len(scripts)} miglint binaries, not 1")
        binary = scripts[0].rsplit("/", 1)[1]
        folder = out / f"{name}-{version}-{platform}"
        folder.mkdir()
        target = folder / binary
        with z.open(scripts[0]) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        target.chmod(0o755)
    if binary.endswith(".exe"):
        shutil.make_archive(str(folder), "zip", out, folder.name)
    else:
        with tarfile.open(f"{folder}.tar.gz", "w:gz") as t:
            t.add(folder, arcname=folder.name)
    shutil.rmtree(folder)
    shutil.copy(wheel, out)
    found += 1
for sdist in wheels.glob("*.tar.gz"):
    shutil.copy(sdist, out)
if not found:
    sys.exit(f"release: no wheels in {wheels}")
PY
    (cd "$out" && sha256sum -- * > SHA256SUMS)
    ;;
notes)
    tag="${2:?usage: scripts/release.sh notes TAG}"
    v="${tag#v}"
    awk -v v="$v" '
        $0 ~ "^## " v "( |$)" { on = 1; next }
        on && /^## / { exit }
        on { print }
    ' CHANGELOG.md
    ;;
hook)
    tag="${2:?usage: scripts/release.sh hook TAG}"
    : "${HOOK_REPOSITORY:?the hook repository, owner/name}" "${HOOK_TOKEN:?a token that may push to it}"
    v="$(version)"
    [ "$tag" = "v$v" ] || fail "tag $tag does not name Cargo.toml's version $v"
    work="$(mktemp -d)"
    git clone --quiet "https://x-access-token:${HOOK_TOKEN}@github.com/${HOOK_REPOSITORY}.git" "$work/hook"
    cp -R pre-commit-python/. "$work/hook/"
    cd "$work/hook"
    git add -A
    if git diff --cached --quiet; then
        echo "release: ${HOOK_REPOSITORY} already holds miglint $v"
    else
        git -c user.name="miglint release" -c user.email="release@miglint.invalid" \
            commit --quiet -m "miglint $v"
    fi
    git tag "v$v"
    git push --quiet origin HEAD "v$v"
    ;;
*)
    echo "usage: scripts/release.sh check|wheel|sdist|binaries|notes|hook ..." >&2
    exit 2
    ;;
esac
