"""
Create users
"""
from yoyo import step

steps = [
    step(
        """
        -- miglint: ignore[if-exists-guard]
        CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))
        )
        """,
        "DROP TABLE IF EXISTS users",
    ),
]
