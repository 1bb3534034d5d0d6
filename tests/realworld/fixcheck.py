"""`miglint lint --fix --unsafe-fixes` on copies of the real chains, then
real Alembic on the fixed copies: every step real Alembic applied before
must still apply, with the same schema except what the fixes add
(timestamp columns, indexes).

    .venv/bin/python tests/realworld/fixcheck.py --miglint target/release/miglint \
        [--out .cache/realworld/fixcheck.json]

Needs fetch.py and run.py's results (.cache/realworld/alembic.json) first.
The copies live in .cache/realworld/fixed/, committed to a git repository
of their own so that their migrations are history, as a released
project's are: --unsafe-fixes applies every fix miglint offers there.
Exit 1 when a fixed chain applies less far than the original, or its
schema differs in anything but added columns and indexes.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "realworld")
FIXED = os.path.join(CACHE, "fixed")

sys.path.insert(0, HERE)
import measure  # noqa: E402  (write_config, lint_dir)


def git(*args):
    subprocess.run(["git", "-C", FIXED, *args], check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="miglint", GIT_AUTHOR_EMAIL="fixcheck@example.com",
                            GIT_COMMITTER_NAME="miglint", GIT_COMMITTER_EMAIL="fixcheck@example.com"))


def copy_projects(manifest):
    """The projects, copied and committed: their migrations are history,
    as a released project's are."""
    if os.path.exists(FIXED):
        shutil.rmtree(FIXED)
    os.makedirs(FIXED)
    for project in manifest["projects"]:
        name = f"{project['package']}-{project['version']}"
        shutil.copytree(os.path.join(CACHE, name), os.path.join(FIXED, name), symlinks=True)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "released")


def fix_chain(binary, project, chain, baseline_sql):
    """Writes the chain's miglint.toml (pointing into the copy) and runs
    --fix --unsafe-fixes; returns (fixes applied, notes of dropped fixes)."""
    d = measure.write_config(project, chain, baseline_sql, projects=FIXED, lint_root="fixed-lint")
    # Run from inside the repository, so miglint sees the history.
    run = subprocess.run(
        [binary, "lint", "--config", os.path.join(d, "miglint.toml"), "--fix", "--unsafe-fixes",
         "--no-cache", "--quiet"],
        cwd=FIXED, capture_output=True, text=True)
    m = re.search(r"Fixed (\d+) findings? in (\d+) files?", run.stdout)
    applied = int(m.group(1)) if m else 0
    dropped = [line for line in run.stderr.splitlines() if "not applied: with it" in line]
    return applied, dropped, run.stderr


def steps_ok(result, way):
    return [s for s in result["steps"] if s["way"] == way and "schema" in s]


def added_only(before, after):
    """Differences of `after` from `before` that are not added columns or
    indexes: tables, changed or removed columns, foreign keys."""
    problems = []
    if before["tables"] != after["tables"]:
        problems.append(f"tables {before['tables']} -> {after['tables']}")
    cols_after = {(c[0], c[1]): c for c in after["columns"]}
    for c in before["columns"]:
        got = cols_after.get((c[0], c[1]))
        if got is None:
            problems.append(f"column {c[0]}.{c[1]} is gone")
        elif got != c:
            problems.append(f"column {c[0]}.{c[1]}: {c} -> {got}")
    idx_after = {i[0] for i in after["indexes"]}
    for i in before["indexes"]:
        if i[0] not in idx_after:
            problems.append(f"index {i[0]} is gone")
    if sorted(map(str, before["fks"])) != sorted(map(str, after["fks"])):
        problems.append("foreign keys differ")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--miglint", default=os.path.join(ROOT, "target", "release", "miglint"))
    ap.add_argument("--alembic", default=os.path.join(CACHE, "alembic.json"))
    ap.add_argument("--out", default=os.path.join(CACHE, "fixcheck.json"))
    args = ap.parse_args()
    binary = os.path.abspath(args.miglint)
    with open(os.path.join(HERE, "manifest.json")) as f:
        manifest = json.load(f)
    with open(args.alembic) as f:
        original = json.load(f)

    copy_projects(manifest)
    fixes = {}
    for project in manifest["projects"]:
        for chain in project["chains"]:
            cid = chain["id"]
            applied, dropped, _ = fix_chain(binary, project, chain, original[cid].get("baseline_sql", ""))
            fixes[cid] = {"applied": applied, "dropped": dropped}

    out = os.path.join(CACHE, "fixed-alembic.json")
    env = dict(os.environ, MIGLINT_REALWORLD_ROOT=FIXED)
    subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "--out", out],
                   env=env, check=True, capture_output=True)
    with open(out) as f:
        fixed = json.load(f)

    failures = []
    report = {}
    for cid, before in original.items():
        after = fixed.get(cid, {"steps": []})
        problems = []
        for way in ("up", "down"):
            b, a = steps_ok(before, way), steps_ok(after, way)
            if len(a) < len(b):
                refused = next((s for s in after["steps"] if s["way"] == way and "error" in s), {})
                problems.append(f"{way}: {len(a)} steps apply after the fixes, {len(b)} before "
                                f"({refused.get('rev')}: {refused.get('error', '')[:200]})")
            for sb, sa in zip(b, a):
                for p in added_only(sb["schema"], sa["schema"]):
                    problems.append(f"{way} at {sb['rev']}: {p}")
                    break
        report[cid] = {**fixes[cid], "problems": problems[:5]}
        print(f"{cid:14} fixes applied {fixes[cid]['applied']:4}  dropped by the chain check "
              f"{len(fixes[cid]['dropped']):3}  {'ok' if not problems else 'BROKEN'}")
        for p in problems[:5]:
            print(f"    {p}")
        if problems:
            failures.append(cid)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    if failures:
        print(f"fixcheck: --fix broke {', '.join(failures)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
