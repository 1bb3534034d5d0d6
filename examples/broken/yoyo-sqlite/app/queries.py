"""Queries of the app (filtered-column-index: users.priority has no index)."""


def busiest_users(cursor):
    return cursor.execute(
        "SELECT id FROM users WHERE archived = 0 ORDER BY priority DESC"
    ).fetchall()
