"""Runs real projects' Alembic chains with real Alembic on SQLite (or on a
PostgreSQL server), one revision at a time, and records the schema the
database holds after every step.

    .venv/bin/python tests/realworld/fetch.py            # wheels -> .cache/realworld/
    .venv/bin/python tests/realworld/run.py --out .cache/realworld/alembic.json
    .venv/bin/python tests/realworld/run.py --only optuna --out .cache/realworld/optuna.json
    .venv/bin/python tests/realworld/run.py --postgres SOCKETDIR --out .cache/realworld/alembic-postgresql.json

With --postgres, the chains the manifest marks `"postgresql": true` (the
projects that support PostgreSQL) run on that server, each in a fresh
database `rw_<chain>`; the facts come from PostgreSQL's catalog, in the
same shape.

For each chain of tests/realworld/manifest.json: upgrade from base to head
one revision at a time (a merge is applied once all its parents are), then
downgrade one revision at a time back to base, dumping the schema after each
step. A step Alembic refuses is recorded with its message; an upgrade error
ends the chain, a downgrade error ends the way down.

Output: {chain_id: {"project", "version", "revisions": [...base to head...],
"files": {rev: path under .cache/realworld}, "base_schema": {...before the first step},
"head_reached", "base_reached", "seconds",
"steps": [{"rev", "way": "up"|"down", "schema": {...}} | {"rev", "way", "error", "where"}]}}

Each chain runs in its own child process (its stub modules and the
project's own helper modules must not leak into another chain), two at a
time. Only Alembic and SQLAlchemy (the pinned .venv) are needed: whatever
else the migrations import comes from the project's own files unpacked by
fetch.py or from our stubs under tests/realworld/stubs/<name>/.
"""

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor

# No __pycache__ inside tests/realworld/stubs/ (nor beside the unpacked wheels).
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "realworld")


def load_manifest():
    with open(os.path.join(HERE, "manifest.json")) as f:
        return json.load(f)


def chains(manifest):
    """(project, chain) for every chain of the manifest, in manifest order."""
    for project in manifest["projects"]:
        for chain in project["chains"]:
            yield project, chain


def projects_root():
    """Where the projects are: fetch.py's folder, or a copy of it (a fixed
    copy, for fixcheck.py) named by MIGLINT_REALWORLD_ROOT."""
    return os.environ.get("MIGLINT_REALWORLD_ROOT", CACHE)


def project_dir(project):
    """Where fetch.py unpacked the project's chains."""
    return os.path.join(projects_root(), f"{project['package']}-{project['version']}")


# ---------------------------------------------------------------------------
# The schema facts, as SQLite itself reports them.
# ---------------------------------------------------------------------------

SKIP_TABLES = ("alembic_version",)


def _paren_list(sql, start):
    """The top-level comma-separated elements of the parenthesised list that
    opens at sql[start] == "(", and the index just past its closing ")"."""
    depth, items, cur, i, quote = 0, [], [], start, None
    while i < len(sql):
        c = sql[i]
        if quote:
            cur.append(c)
            if c == quote:
                quote = None
        elif c in "'\"`[":
            quote = "]" if c == "[" else c
            cur.append(c)
        elif c == "(":
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c == ")":
            depth -= 1
            if depth == 0:
                items.append("".join(cur))
                return [" ".join(x.split()) for x in items], i + 1
            cur.append(c)
        elif c == "," and depth == 1:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    return [" ".join(x.split()) for x in items], i


def _index_sql_parts(sql):
    """The written elements of CREATE INDEX ... ON t (a, lower(b) DESC) WHERE ...,
    and the WHERE clause (None when the index is not partial)."""
    if not sql:
        return None, None
    m = re.search(r"\bON\s+(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w.]+)\s*\(", sql, re.I)
    if not m:
        return None, None
    items, end = _paren_list(sql, m.end() - 1)
    rest = sql[end:].strip()
    where = rest[5:].strip() if rest[:5].upper() == "WHERE" else None
    return items, where


def facts(tables, columns, indexes, uniques, fks):
    """One schema's facts, in a fixed order."""
    return {
        "tables": tables,
        "columns": sorted(columns, key=lambda c: (c[0], c[1])),
        "indexes": sorted(indexes, key=lambda i: (i[1], i[0])),
        "uniques": sorted(uniques),
        "fks": sorted(fks, key=lambda f: [str(x) for x in f]),
    }


def dump(db_path):
    """tests/oracle/driver.py's dump(), extended: column defaults, nullability
    and primary key, index elements including expressions (PRAGMA index_xinfo
    plus the CREATE INDEX text), unique flag, partial WHERE, the unique
    constraints SQLite keeps as automatic indexes, foreign keys with ON DELETE.

    columns: [table, name, type, notnull, default, pk]
    indexes: [name, table, [element, ...], unique, where]   (CREATE INDEX only)
    uniques: [table, [column, ...]]                          (UNIQUE constraints)
    fks:     [table, from, to_table, to_column, on_delete]
    """
    conn = sqlite3.connect(db_path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if r[0] not in SKIP_TABLES and not r[0].startswith("alembic_version")
        ]
        index_sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
        columns, indexes, uniques, fks = [], [], [], []
        for t in tables:
            # table_xinfo, not table_info: generated columns are columns too
            # (hidden 2 and 3); only a virtual table's hidden ones are not.
            for _cid, name, typ, notnull, default, pk, hidden in conn.execute(
                f'PRAGMA table_xinfo("{t}")'
            ):
                if hidden != 1:
                    columns.append([t, name, typ, bool(notnull), default, pk > 0])
            for _seq, name, unique, origin, _partial in conn.execute(f'PRAGMA index_list("{t}")'):
                if origin == "pk":
                    continue
                keys = [r for r in conn.execute(f'PRAGMA index_xinfo("{name}")') if r[5]]
                if origin == "u":
                    uniques.append([t, [r[2] for r in keys]])
                    continue
                written, where = _index_sql_parts(index_sql.get(name))
                elements = []
                for pos, (_seqno, _cid, col, desc, _coll, _key) in enumerate(keys):
                    if col is None:  # an expression element: SQLite names no column
                        col = written[pos] if written and pos < len(written) else "<expr>"
                    elif desc:
                        col += " DESC"
                    elements.append(col)
                indexes.append([name, t, elements, bool(unique), where])
            for row in conn.execute(f'PRAGMA foreign_key_list("{t}")'):
                # id, seq, table, from, to, on_update, on_delete, match
                fks.append([t, row[3], row[2], row[4], row[6]])
        return facts(tables, columns, indexes, uniques, fks)
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# One chain, run inside its own process.
# ---------------------------------------------------------------------------


def _where(tb, script_dir):
    """file:line of the innermost traceback frame inside the project's files."""
    where = None
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith(script_dir) or "/.cache/realworld/" in frame.filename:
            where = f"{os.path.relpath(frame.filename, CACHE)}:{frame.lineno}"
    return where


def postgres_database(host, chain_id):
    """A fresh database for the chain on the PostgreSQL server whose socket
    is in `host`; its SQLAlchemy URL and psycopg connection arguments."""
    import psycopg

    name = "rw_" + re.sub(r"\W", "_", chain_id)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={host}", {"host": host, "user": "postgres", "dbname": name}


FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def dump_postgres(conninfo):
    """dump()'s facts, from PostgreSQL's catalog, in the same shape. Types
    are format_type()'s spelling ("enum <name>" for an enum type) and
    defaults pg_get_expr()'s; the indexes
    behind PRIMARY KEY and UNIQUE constraints are constraints, as in
    SQLite; only the `public` schema."""
    import psycopg

    with psycopg.connect(**conninfo) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
            )
            if not r[0].startswith(SKIP_TABLES)
        ]
        columns, indexes, uniques, fks = [], [], [], []
        for t in tables:
            rel = f'public."{t}"'
            pk = {
                r[0]
                for r in conn.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                    (rel,),
                )
            }
            for name, typ, notnull, default in conn.execute(
                "SELECT a.attname, CASE WHEN t.typtype = 'e' THEN 'enum ' ELSE '' END "
                "|| format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                # A generated column's expression is kept where defaults
                # are, but it is no DEFAULT.
                "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END "
                "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (rel,),
            ):
                columns.append([t, name, typ, bool(notnull), default, name in pk])
            for name, unique, nkeys, options, where, oid in conn.execute(
                "SELECT c.relname, i.indisunique, i.indnkeyatts, i.indoption::int2[], "
                "pg_get_expr(i.indpred, i.indrelid), i.indexrelid FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
                "AND k.conrelid = i.indrelid) ORDER BY 1",
                (rel,),
            ):
                elements = []
                for k in range(1, nkeys + 1):
                    (text,) = conn.execute("SELECT pg_get_indexdef(%s, %s, true)", (oid, k)).fetchone()
                    text = text.strip('"') if re.fullmatch(r'"[^"]+"', text) else text
                    elements.append(text + (" DESC" if options[k - 1] & 1 else ""))
                indexes.append([name, t, elements, bool(unique), where])
            for (cols,) in conn.execute(
                "SELECT ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o) "
                "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o) "
                "FROM pg_constraint k WHERE k.conrelid = %s::regclass AND k.contype = 'u'",
                (rel,),
            ):
                uniques.append([t, list(cols)])
            for frm, ref_table, to, on_delete in conn.execute(
                "SELECT a.attname, r.relname, b.attname, k.confdeltype FROM pg_constraint k "
                "JOIN LATERAL unnest(k.conkey, k.confkey) AS u(c, f) ON true "
                "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.c "
                "JOIN pg_class r ON r.oid = k.confrelid "
                "JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = u.f "
                "WHERE k.conrelid = %s::regclass AND k.contype = 'f'",
                (rel,),
            ):
                fks.append([t, frm, ref_table, to, FK_ACTIONS.get(on_delete, on_delete)])
        return facts(tables, columns, indexes, uniques, fks)


def baseline_postgres(engine):
    """The tables create_all made, as PostgreSQL DDL (for miglint's
    `baseline` setting): reflected, then compiled for PostgreSQL."""
    import sqlalchemy as sa
    from sqlalchemy.schema import CreateIndex, CreateTable

    metadata = sa.MetaData()
    metadata.reflect(engine)
    out = []
    for table in metadata.sorted_tables:
        if table.name.startswith(SKIP_TABLES):
            continue
        out.append(f"{str(CreateTable(table).compile(engine)).strip()};\n")
        out += [f"{str(CreateIndex(ix).compile(engine)).strip()};\n" for ix in table.indexes]
    return "".join(out)


def run_chain(project, chain, db_path, postgres=None):
    import sqlalchemy as sa
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationStep
    from alembic.script import ScriptDirectory
    from alembic.util import load_python_file

    warnings.simplefilter("ignore")
    pdir = project_dir(project)
    script_dir = os.path.join(pdir, chain["script_dir"])

    # Our stubs first (a package split between a stub folder and the unpacked
    # wheel is a namespace package: neither side has its __init__.py), then
    # the unpacked project itself, for its own helper modules.
    for stub in reversed(chain.get("stubs", [])):
        sys.path.insert(0, os.path.join(HERE, "stubs", stub))
    sys.path.insert(len(chain.get("stubs", [])), pdir)
    for key, value in chain.get("environ", {}).items():
        os.environ[key] = value

    # What the project does around Alembic (a stub module of ours), if anything.
    if chain.get("setup_module"):
        import importlib

        importlib.import_module(chain["setup_module"])

    # ONE Config and ONE ScriptDirectory for the whole chain: every revision
    # file is read once, not once per step.
    cfg = Config()
    cfg.set_main_option("script_location", script_dir)
    cfg.set_main_option("path_separator", "os")
    if chain.get("version_locations"):
        cfg.set_main_option(
            "version_locations",
            os.pathsep.join(os.path.join(pdir, v) for v in chain["version_locations"]),
        )
    script = ScriptDirectory.from_config(cfg)
    order = [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]

    if postgres:
        url, conninfo = postgres_database(postgres, chain["id"])
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        snapshot = lambda: dump_postgres(conninfo)  # noqa: E731
    else:
        if os.path.exists(db_path):
            os.remove(db_path)
        engine = sa.create_engine(f"sqlite:///{db_path}", poolclass=sa.pool.NullPool)
        snapshot = lambda: dump(db_path)  # noqa: E731
    cfg.attributes.update(
        naming_convention=chain.get("naming_convention"),
        render_as_batch=chain.get("render_as_batch", False),
        version_table=chain.get("version_table"),
    )

    def apply(rev, up):
        """Exactly one revision, up or down, through the project-neutral env.py."""
        sc = script.get_revision(rev)
        step = (MigrationStep.upgrade_from_script if up else MigrationStep.downgrade_from_script)(
            script.revision_map, sc
        )
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            with EnvironmentContext(cfg, script, fn=lambda _heads, _ctx: [step]):
                load_python_file(HERE, "env.py")
            if conn.in_transaction():
                conn.commit()

    # A project that creates its first tables with metadata.create_all() and
    # only then upgrades from base (mlflow's InitialBase) gets the same here.
    if chain.get("pre_create_all"):
        import importlib

        module, _, attr = chain["pre_create_all"].partition(":")
        metadata = importlib.import_module(module)
        for part in attr.split("."):
            metadata = getattr(metadata, part)
        metadata.create_all(engine)
    base_schema = snapshot()
    # The same tables as SQL, for miglint's `baseline` setting.
    if postgres:
        baseline_sql = baseline_postgres(engine) if base_schema["tables"] else ""
    else:
        with sqlite3.connect(db_path) as raw:
            baseline_sql = "".join(
                f"{sql};\n"
                for (sql,) in raw.execute(
                    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                    "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'alembic_version%' ORDER BY rowid"
                )
            )

    steps, applied = [], []
    head_reached = base_reached = False
    model_diffs = None
    for way, revs in (("up", order), ("down", None)):
        if way == "down":
            if not head_reached:
                break
            revs = list(reversed(applied))
        failed = False
        for rev in revs:
            try:
                apply(rev, way == "up")
            except Exception as e:  # the tool refused this step
                msg = f"{type(e).__name__}: {e}".strip()
                steps.append({"rev": rev, "way": way, "error": msg[:2000], "where": _where(e.__traceback__, script_dir)})
                failed = True
                break
            steps.append({"rev": rev, "way": way, "schema": snapshot()})
            if way == "up":
                applied.append(rev)
        if way == "up":
            head_reached = not failed
            if head_reached and chain.get("models"):
                model_diffs = compare_models(engine, chain["models"]["metadata"])
        else:
            base_reached = not failed
    engine.dispose()
    return {
        "project": project["package"],
        "version": project["version"],
        "script_dir": os.path.relpath(script_dir, CACHE),
        "revisions": order,
        "files": {r: os.path.relpath(script.get_revision(r).path, CACHE) for r in order},
        "base_schema": base_schema,
        "baseline_sql": baseline_sql,
        "head_reached": head_reached,
        "base_reached": base_reached,
        "steps": steps,
        "model_diffs": model_diffs,
    }


def compare_models(engine, target):
    """What Alembic's autogenerate finds between the project's models
    (`module:attribute` of their MetaData) and the database at head:
    [kind, table, column or index name], sorted. The oracle for model-drift."""
    import importlib

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    module, _, attr = target.partition(":")
    metadata = importlib.import_module(module)
    for part in attr.split("."):
        metadata = getattr(metadata, part)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        found = compare_metadata(context, metadata)
    out = []
    for group in found:
        # modify_* come grouped per column.
        for d in group if isinstance(group, list) else [group]:
            kind = d[0]
            if kind in ("add_table", "remove_table"):
                out.append([kind, d[1].name, None])
            elif kind in ("add_column", "remove_column"):
                out.append([kind, d[2], d[3].name])
            elif kind.startswith("modify_"):
                out.append([kind, d[2], d[3]])
            elif kind in ("add_index", "remove_index"):
                out.append([kind, d[1].table.name, d[1].name])
            elif kind in ("add_fk", "remove_fk"):
                out.append([kind, d[1].parent.name, ",".join(d[1].column_keys)])
            else:
                out.append([kind, getattr(getattr(d[1], "table", None), "name", None), getattr(d[1], "name", None)])
    return sorted(out, key=lambda x: [str(v) for v in x])


def child(chain_id, out, postgres=None):
    manifest = load_manifest()
    for project, chain in chains(manifest):
        if chain["id"] == chain_id:
            break
    else:
        sys.exit(f"no chain {chain_id!r} in manifest.json")
    db_dir = os.path.join(projects_root(), "db")
    os.makedirs(db_dir, exist_ok=True)
    start = time.time()
    try:
        result = run_chain(project, chain, os.path.join(db_dir, f"{chain_id}.db"), postgres)
    except Exception as e:  # before the first step: the chain could not even be read
        result = {"project": project["package"], "version": project["version"], "revisions": [],
                  "head_reached": False, "base_reached": False, "steps": [],
                  "setup_error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
    result["seconds"] = round(time.time() - start, 2)
    with open(out, "w") as f:
        json.dump(result, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(CACHE, "alembic.json"))
    ap.add_argument("--only", action="append", help="chain id or project package (repeatable)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--postgres", metavar="SOCKETDIR",
                    help="run on the PostgreSQL server listening in SOCKETDIR (scripts/postgres.sh), "
                    "the chains the manifest marks `postgresql`, each in a fresh database")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.out, args.postgres)

    manifest = load_manifest()
    wanted = [c["id"] for p, c in chains(manifest)
              if (not args.only or c["id"] in args.only or p["package"] in args.only)
              and (not args.postgres or c.get("postgresql"))]

    def one(chain_id):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            path = tmp.name
        proc = subprocess.run([sys.executable, "-B", os.path.abspath(__file__), "--child", chain_id, "--out", path]
                              + (["--postgres", args.postgres] if args.postgres else []),
                              capture_output=True, text=True)
        try:
            with open(path) as f:
                result = json.load(f)
        except (OSError, ValueError):
            result = {"setup_error": f"child exited {proc.returncode}", "stderr": proc.stderr[-4000:],
                      "revisions": [], "steps": [], "head_reached": False, "base_reached": False}
        os.unlink(path)
        return chain_id, result

    results = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for chain_id, result in pool.map(one, wanted):
            results[chain_id] = result
            errors = [s for s in result["steps"] if "error" in s]
            ups = sum(1 for s in result["steps"] if s["way"] == "up" and "schema" in s)
            print(f"{chain_id:28} {len(result['revisions']):4} revisions  up {ups:4}  "
                  f"head={'yes' if result['head_reached'] else 'NO ':3} base={'yes' if result['base_reached'] else 'NO ':3} "
                  f"{result.get('seconds', 0):6.1f}s"
                  + (f"  SETUP ERROR {result['setup_error']}" if "setup_error" in result else "")
                  + "".join(f"\n    {e['way']} {e['rev']} refused at {e['where']}: {e['error'][:300]}" for e in errors),
                  flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
