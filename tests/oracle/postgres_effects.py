"""Runs each PostgreSQL lock rule's cases on a real server and prints, as
JSON, what the server shows: whether a write from another session is
blocked while the migration's transaction is open, whether the table was
rewritten (its file node changed), what PostgreSQL refused, and what it
said at DEBUG1.

    python postgres_effects.py SOCKET_DIR cases.json > effects.json

cases.json: [{"name": "...", "setup": ["SQL", ...], "migration": ["SQL", ...],
"transaction": true | false, "after": ["SQL", ...], "blocker": true | false}]
— each case on a fresh database: setup, then the migration (in one
transaction, or statement by statement in autocommit), then "after"
(queries the code would run). With "blocker", another session holds a
read of the table open while the migration runs (given 2 s at most).
"""

import json
import re
import sys

import psycopg


def fresh_database(host, name):
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {"host": host, "user": "postgres", "dbname": name}


def filenode(conn, table):
    return conn.execute("SELECT relfilenode FROM pg_class WHERE relname = %s", (table,)).fetchone()[0]


def run_case(host, case):
    name = "effect_" + re.sub(r"\W", "_", case["name"])
    info = fresh_database(host, name)
    out = {"name": case["name"], "error": None, "blocked_write": None, "rewritten": None, "notices": [], "after_errors": []}
    with psycopg.connect(**info, autocommit=True) as setup:
        for sql in case["setup"]:
            setup.execute(sql)
        before = filenode(setup, "orders")
    blocker = None
    if case.get("blocker"):
        # A long report: it holds ACCESS SHARE on the table until it ends.
        blocker = psycopg.connect(**info)
        blocker.execute("SELECT count(*) FROM orders")
    migration = psycopg.connect(**info, autocommit=not case["transaction"])
    migration.add_notice_handler(lambda d: out["notices"].append(d.message_primary))
    migration.execute("SET client_min_messages = debug1")
    if blocker is not None:
        migration.execute("SET statement_timeout = '2s'")
    try:
        if case["transaction"]:
            # psycopg opens the transaction at the first statement.
            for sql in case["migration"]:
                migration.execute(sql)
            # While it is open, another session tries a write.
            with psycopg.connect(**info, autocommit=True) as other:
                other.execute("SET lock_timeout = '300ms'")
                try:
                    other.execute("INSERT INTO orders (customer_email, status) VALUES ('w@example.com', 'open')")
                    out["blocked_write"] = False
                except psycopg.errors.LockNotAvailable:
                    out["blocked_write"] = True
            migration.commit()
        else:
            for sql in case["migration"]:
                migration.execute(sql)
    except psycopg.Error as e:
        out["error"] = (e.diag.message_primary or str(e)).strip()
        migration.rollback()
    finally:
        migration.close()
        if blocker is not None:
            blocker.rollback()
            blocker.close()
    with psycopg.connect(**info, autocommit=True) as check:
        out["rewritten"] = filenode(check, "orders") != before
        for sql in case.get("after", []):
            try:
                check.execute(sql)
            except psycopg.Error as e:
                out["after_errors"].append((e.diag.message_primary or str(e)).strip())
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    return out


def main():
    host, cases = sys.argv[1], json.load(open(sys.argv[2]))
    json.dump([run_case(host, c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
