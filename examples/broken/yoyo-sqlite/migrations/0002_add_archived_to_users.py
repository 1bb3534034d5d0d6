"""
Add an archived flag (rollback-required: the rollback is only a comment)
"""
from yoyo import step

steps = [
    step(
        "ALTER TABLE users ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
        "-- SQLite doesn't support DROP COLUMN before 3.35.0",
    ),
]
