"""Downloads the wheels named in tests/realworld/manifest.json, checks their
sha256, and unpacks only the Alembic chains (and the few project files their
migrations import) into .cache/realworld/<package>-<version>/.

    .venv/bin/python tests/realworld/fetch.py [--only PACKAGE ...]

Idempotent: a wheel already in .cache/realworld/wheels/ whose sha256 matches
is not downloaded again, and a project folder whose marker records the same
wheel hash and file list is not unpacked again. A hash mismatch stops the
run (exit 1): the suite's expectations hold for exactly those bytes.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "realworld")
WHEELS = os.path.join(CACHE, "wheels")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def wanted_members(project):
    """The prefixes to unpack: every chain's script directory (env.py,
    versions/, the package's helper modules beside them) plus `extra_files`."""
    prefixes = [c["script_dir"].rstrip("/") + "/" for c in project["chains"]]
    for c in project["chains"]:
        prefixes += [v.rstrip("/") + "/" for v in c.get("version_locations") or []]
    prefixes += project.get("extra_files", [])
    return sorted(set(prefixes))


def fetch_wheel(project):
    wheel = os.path.join(WHEELS, project["wheel"])
    if os.path.exists(wheel) and sha256(wheel) == project["sha256"]:
        return wheel
    os.makedirs(WHEELS, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
           "--dest", WHEELS, *project.get("pip_args", []), f"{project['package']}=={project['version']}"]
    print("  " + " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)
    if not os.path.exists(wheel):
        sys.exit(f"FAIL {project['package']}: pip did not produce {project['wheel']} "
                 f"(got {sorted(os.listdir(WHEELS))})")
    got = sha256(wheel)
    if got != project["sha256"]:
        sys.exit(f"FAIL {project['package']}: sha256 of {project['wheel']} is {got}, "
                 f"manifest.json pins {project['sha256']}")
    return wheel


def unpack(project, wheel):
    dest = os.path.join(CACHE, f"{project['package']}-{project['version']}")
    prefixes = wanted_members(project)
    marker = os.path.join(dest, ".fetched.json")
    expected = {"sha256": project["sha256"], "prefixes": prefixes}
    try:
        with open(marker) as f:
            if json.load(f) == expected:
                return dest, False
    except (OSError, ValueError):
        pass
    shutil.rmtree(dest, ignore_errors=True)
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist()
                 if not n.endswith("/") and any(n == p or n.startswith(p) for p in prefixes)
                 and "__pycache__" not in n]
        for prefix in prefixes:
            if not any(n == prefix or n.startswith(prefix) for n in names):
                sys.exit(f"FAIL {project['package']}: nothing in {project['wheel']} under {prefix!r}")
        for n in names:
            z.extract(n, dest)
    with open(marker, "w") as f:
        json.dump(expected, f)
    return dest, True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", help="a package name from manifest.json (repeatable)")
    args = ap.parse_args()
    with open(os.path.join(HERE, "manifest.json")) as f:
        manifest = json.load(f)
    for project in manifest["projects"]:
        if args.only and project["package"] not in args.only:
            continue
        wheel = fetch_wheel(project)
        dest, fresh = unpack(project, wheel)
        print(f"{project['package']}=={project['version']}: {'unpacked' if fresh else 'cached'} "
              f"{os.path.relpath(dest, ROOT)}", flush=True)


if __name__ == "__main__":
    main()
