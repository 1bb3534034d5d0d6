"""Queries of the shop (drop-still-read: 0004 drops email)."""


def orders_of(cursor, email):
    return cursor.execute(
        "SELECT id FROM orders WHERE email = %s", (email,)
    ).fetchall()
