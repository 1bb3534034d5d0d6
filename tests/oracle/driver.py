"""Runs generated migration chains with real Alembic or real yoyo and
prints, as JSON, what SQLite holds after each step.

    python driver.py jobs.json > results.json

jobs.json: [{"flavour": "alembic" | "yoyo", "dir": "...", "revisions": ["001", ...]}]

Without "revisions", the tool's own order is taken: Alembic's revision
graph from base to head, yoyo's migrations as it sorts them.

For each job: upgrade one revision at a time (schema after each), then
downgrade one revision at a time back to base (schema after each). A step
the tool refuses is reported as {"error": "..."} and ends that job.
"""

import json
import sqlite3
import sys
import traceback


def dump(db_path):
    """The schema facts miglint's replay is compared on."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' "
                "AND name NOT LIKE '_yoyo_%' AND name != 'yoyo_lock' ORDER BY name"
            )
        ]
        columns, indexes, fks = [], [], []
        for t in tables:
            for cid, name, typ, notnull, default, pk in conn.execute(f'PRAGMA table_info("{t}")'):
                columns.append([t, name, typ, bool(notnull), default, pk > 0])
            for _, name, unique, origin, _partial in conn.execute(f'PRAGMA index_list("{t}")'):
                # Indexes SQLite makes for UNIQUE / PRIMARY KEY constraints are
                # not CREATE INDEX statements; miglint keeps those as constraints.
                if origin != "c":
                    continue
                cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
                indexes.append([name, t, cols, bool(unique)])
            for row in conn.execute(f'PRAGMA foreign_key_list("{t}")'):
                fks.append([t, row[3], row[2], row[4]])
        return {"tables": tables, "columns": sorted(columns), "indexes": sorted(indexes), "fks": sorted(fks)}
    finally:
        conn.close()


def run_alembic(job):
    from alembic import command
    from alembic.config import Config

    cfg = Config(f"{job['dir']}/alembic.ini")
    cfg.set_main_option("script_location", f"{job['dir']}/migrations")
    db = f"{job['dir']}/oracle.db"
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db}")
    steps = []
    revisions = job.get("revisions")
    if revisions is None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(cfg)
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for rev in revisions:
        command.upgrade(cfg, rev)
        steps.append({"at": rev, "way": "up", "schema": dump(db)})
    for i in range(len(revisions) - 1, -1, -1):
        target = revisions[i - 1] if i > 0 else "base"
        command.downgrade(cfg, target)
        steps.append({"at": target, "way": "down", "schema": dump(db)})
    return steps


def run_yoyo(job):
    from yoyo import get_backend, read_migrations
    from yoyo.migrations import MigrationList

    db = f"{job['dir']}/oracle.db"
    backend = get_backend(f"sqlite:///{db}")
    migrations = read_migrations(f"{job['dir']}/migrations")
    by_id = {m.id: m for m in migrations}
    steps = []
    revisions = job.get("revisions")
    if revisions is None:
        revisions = [m.id for m in backend.to_apply(migrations)]
    with backend.lock():
        for rev in revisions:
            backend.apply_migrations(MigrationList([by_id[rev]]))
            steps.append({"at": rev, "way": "up", "schema": dump(db)})
        for i in range(len(revisions) - 1, -1, -1):
            backend.rollback_migrations(MigrationList([by_id[revisions[i]]]))
            target = revisions[i - 1] if i > 0 else "base"
            steps.append({"at": target, "way": "down", "schema": dump(db)})
    return steps


def main():
    jobs = json.load(open(sys.argv[1]))
    # yoyo prints what a migration's SELECT returns: keep stdout for the
    # results.
    out, sys.stdout = sys.stdout, sys.stderr
    results = []
    for job in jobs:
        try:
            runner = run_alembic if job["flavour"] == "alembic" else run_yoyo
            results.append({"steps": runner(job)})
        except Exception as e:  # reported to the test, which fails on it
            results.append({"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})
    json.dump(results, out)


if __name__ == "__main__":
    main()
