"""Runs generated migration chains with real Alembic or real yoyo and
prints, as JSON, what SQLite holds after each step (or PostgreSQL, for an
Alembic or yoyo job with "postgres": the folder of a server's socket).

    python driver.py jobs.json > results.json

jobs.json: [{"flavour": "alembic" | "yoyo", "dir": "...", "revisions": ["001", ...]}]

The SQL-folder tools ("sqlx", "diesel", "refinery", "dbmate") run as
their own command-line programs ("bin": the program's path). Their job also
lists "units": the files of each migration, relative to "dir"/migrations;
the driver copies them into a folder beside it ("dir"-run) one migration at a time and
runs the tool after each, so every step applies exactly one migration, then
reverts one at a time (refinery has no down migrations).

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
                "AND name NOT LIKE '_yoyo_%' AND name != 'yoyo_lock' "
                "AND name NOT IN ('_sqlx_migrations', '__diesel_schema_migrations', "
                "'refinery_schema_history', 'schema_migrations') ORDER BY name"
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


def postgres_database(job):
    """A fresh database on the job's PostgreSQL server ("postgres": the
    folder of its socket), named for the job; its SQLAlchemy URL."""
    import os
    import re

    import psycopg

    host = job["postgres"]
    name = "chain_" + re.sub(r"\W", "_", os.path.basename(job["dir"]))
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={host}", {"host": host, "user": "postgres", "dbname": name}


def dump_postgres(conninfo):
    """The same facts, from PostgreSQL's catalog. Types and defaults are
    left out (PostgreSQL spells them its own way); the indexes behind
    PRIMARY KEY and UNIQUE constraints are constraints, as in SQLite."""
    import psycopg

    with psycopg.connect(**conninfo) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname != 'alembic_version' "
                "AND c.relname NOT LIKE '\\_yoyo\\_%%' AND c.relname != 'yoyo_lock' ORDER BY 1"
            )
        ]
        columns, indexes, fks = [], [], []
        for t in tables:
            pk = {
                r[0]
                for r in conn.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                    (t,),
                )
            }
            for name, notnull in conn.execute(
                "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                (t,),
            ):
                columns.append([t, name, None, bool(notnull), None, name in pk])
            for name, unique, keys in conn.execute(
                "SELECT c.relname, i.indisunique, i.indkey::int2[] FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                (t,),
            ):
                cols = []
                for k in keys:
                    if k == 0:
                        cols.append(None)  # an expression
                    else:
                        cols.append(
                            conn.execute(
                                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = %s",
                                (t, k),
                            ).fetchone()[0]
                        )
                indexes.append([name, t, cols, bool(unique)])
            for frm, ref_table, to in conn.execute(
                "SELECT a.attname, r.relname, b.attname FROM pg_constraint k "
                "JOIN LATERAL unnest(k.conkey, k.confkey) AS u(c, f) ON true "
                "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.c "
                "JOIN pg_class r ON r.oid = k.confrelid "
                "JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = u.f "
                "WHERE k.conrelid = %s::regclass AND k.contype = 'f'",
                (t,),
            ):
                fks.append([t, frm, ref_table, to])
        return {"tables": tables, "columns": sorted(columns, key=str), "indexes": sorted(indexes, key=str), "fks": sorted(fks)}


def run_alembic(job):
    from alembic import command
    from alembic.config import Config

    cfg = Config(f"{job['dir']}/alembic.ini")
    cfg.set_main_option("script_location", f"{job['dir']}/migrations")
    db = f"{job['dir']}/oracle.db"
    if "postgres" in job:
        url, conninfo = postgres_database(job)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        snapshot = lambda: dump_postgres(conninfo)  # noqa: E731
    else:
        cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db}")
        snapshot = lambda: dump(db)  # noqa: E731
    steps = []
    revisions = job.get("revisions")
    if revisions is None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(cfg)
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for rev in revisions:
        command.upgrade(cfg, rev)
        steps.append({"at": rev, "way": "up", "schema": snapshot()})
    for i in range(len(revisions) - 1, -1, -1):
        target = revisions[i - 1] if i > 0 else "base"
        command.downgrade(cfg, target)
        steps.append({"at": target, "way": "down", "schema": snapshot()})
    return steps


def run_yoyo(job):
    from yoyo import get_backend, read_migrations
    from yoyo.migrations import MigrationList

    db = f"{job['dir']}/oracle.db"
    if "postgres" in job:
        url, conninfo = postgres_database(job)
        backend = get_backend(url)
        snapshot = lambda: dump_postgres(conninfo)  # noqa: E731
    else:
        backend = get_backend(f"sqlite:///{db}")
        snapshot = lambda: dump(db)  # noqa: E731
    migrations = read_migrations(f"{job['dir']}/migrations")
    by_id = {m.id: m for m in migrations}
    steps = []
    revisions = job.get("revisions")
    if revisions is None:
        revisions = [m.id for m in backend.to_apply(migrations)]
    with backend.lock():
        for rev in revisions:
            backend.apply_migrations(MigrationList([by_id[rev]]))
            steps.append({"at": rev, "way": "up", "schema": snapshot()})
        for i in range(len(revisions) - 1, -1, -1):
            backend.rollback_migrations(MigrationList([by_id[revisions[i]]]))
            target = revisions[i - 1] if i > 0 else "base"
            steps.append({"at": target, "way": "down", "schema": snapshot()})
    return steps


def run_cli(job):
    """One SQL-folder tool, one migration at a time, through its CLI."""
    import os
    import shutil
    import subprocess

    tool, bin_path = job["flavour"], job["bin"]
    src = job.get("source") or os.path.join(job["dir"], "migrations")
    # Beside the chain, not in it: miglint reads the chain's folder alone.
    work = job.get("work") or job["dir"] + "-run"
    shutil.rmtree(work, ignore_errors=True)
    folder = os.path.join(work, "migrations")
    os.makedirs(folder, exist_ok=True)
    db = os.path.join(work, "oracle.db")
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}")

    def run(*args):
        done = subprocess.run([bin_path, *args], cwd=work, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")

    up = {
        "sqlx": lambda: run("migrate", "run", "--no-dotenv", "--source", folder, "--database-url", f"sqlite://{db}?mode=rwc"),
        "diesel": lambda: run("migration", "run", "--migration-dir", folder, "--database-url", db),
        "refinery": lambda: run("migrate", "-e", "DATABASE_URL", "-p", folder),
        "dbmate": lambda: run("--url", f"sqlite:{db}", "--migrations-dir", folder, "--no-dump-schema", "up"),
    }[tool]
    down = {
        "sqlx": lambda: run("migrate", "revert", "--no-dotenv", "--source", folder, "--database-url", f"sqlite://{db}"),
        "diesel": lambda: run("migration", "revert", "--migration-dir", folder, "--database-url", db),
        "dbmate": lambda: run("--url", f"sqlite:{db}", "--migrations-dir", folder, "--no-dump-schema", "rollback"),
    }.get(tool)
    if tool == "refinery":
        sqlite3.connect(db).close()
    revisions = job["revisions"]
    steps = []
    try:
        for rev, unit in zip(revisions, job["units"]):
            for rel in unit:
                target = os.path.join(folder, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(os.path.join(src, rel), target)
            up()
            steps.append({"at": rev, "way": "up", "schema": dump(db)})
        # A forward-only chain (sqlx's plain .sql files) has nothing to revert.
        if down is not None and job.get("reversible", True):
            for i in range(len(revisions) - 1, -1, -1):
                down()
                steps.append({"at": revisions[i - 1] if i > 0 else "base", "way": "down", "schema": dump(db)})
    except RuntimeError as e:
        # The steps before the refusal stand; the refused one is named.
        way = "up" if len(steps) < len(revisions) else "down"
        at = revisions[len(steps)] if way == "up" else revisions[2 * len(revisions) - 1 - len(steps)]
        raise Refused(str(e), steps, at, way) from e
    return steps


class Refused(Exception):
    """A step the tool refused, with the steps that ran before it."""

    def __init__(self, message, steps, at, way):
        super().__init__(message)
        self.steps, self.at, self.way = steps, at, way


RUNNERS = {"alembic": run_alembic, "yoyo": run_yoyo}


def main():
    jobs = json.load(open(sys.argv[1]))
    # yoyo prints what a migration's SELECT returns: keep stdout for the
    # results.
    out, sys.stdout = sys.stdout, sys.stderr
    results = []
    for job in jobs:
        try:
            runner = RUNNERS.get(job["flavour"], run_cli)
            results.append({"steps": runner(job)})
        except Refused as e:
            results.append({"steps": e.steps, "error": str(e), "refused": {"at": e.at, "way": e.way}})
        except Exception as e:  # reported to the test, which fails on it
            results.append({"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})
    json.dump(results, out)


if __name__ == "__main__":
    main()
