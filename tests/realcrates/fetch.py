"""Downloads the crates named in tests/realcrates/manifest.json from
static.crates.io, checks their sha256, and unpacks only Cargo.toml and the
migrations folder into .cache/realcrates/<name>-<version>/.

    python3 tests/realcrates/fetch.py

Idempotent: a .crate already downloaded whose sha256 matches is kept, and a
folder whose marker records the same hash is not unpacked again. A hash
mismatch stops the run (exit 1): the snapshot holds for exactly those bytes.
"""

import hashlib
import json
import os
import shutil
import sys
import tarfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "realcrates")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(krate):
    name, version = krate["name"], krate["version"]
    path = os.path.join(CACHE, "crates", f"{name}-{version}.crate")
    if not (os.path.exists(path) and sha256(path) == krate["sha256"]):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        url = f"https://static.crates.io/crates/{name}/{name}-{version}.crate"
        print(f"  {url}", flush=True)
        request = urllib.request.Request(url, headers={"User-Agent": "miglint tests (real crates)"})
        with urllib.request.urlopen(request, timeout=60) as response, open(path + ".part", "wb") as out:
            shutil.copyfileobj(response, out)
        os.replace(path + ".part", path)
        got = sha256(path)
        if got != krate["sha256"]:
            sys.exit(f"FAIL {name} {version}: sha256 is {got}, manifest.json pins {krate['sha256']}")
    return path


def unpack(krate, path):
    name, version = krate["name"], krate["version"]
    dest = os.path.join(CACHE, f"{name}-{version}")
    marker = os.path.join(dest, ".fetched.json")
    expected = {"sha256": krate["sha256"], "dir": krate["dir"]}
    try:
        with open(marker) as f:
            if json.load(f) == expected:
                return
    except (OSError, ValueError):
        pass
    shutil.rmtree(dest, ignore_errors=True)
    top = f"{name}-{version}/"
    wanted = [top + "Cargo.toml", top + krate["dir"].rstrip("/") + "/"]
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not any(member.name == w or member.name.startswith(w) for w in wanted):
                continue
            rel = member.name[len(top):]
            target = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    with open(marker, "w") as f:
        json.dump(expected, f)


def main():
    manifest = json.load(open(os.path.join(HERE, "manifest.json")))
    for krate in manifest["crates"]:
        unpack(krate, fetch(krate))
    print(f"fetched {len(manifest['crates'])} crates into {os.path.relpath(CACHE, ROOT)}")


if __name__ == "__main__":
    main()
