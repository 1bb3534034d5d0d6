"""
Make rating required (sqlite-alter-support: SQLite has no ALTER COLUMN)
"""
from yoyo import step

steps = [
    step(
        "ALTER TABLE posts ALTER COLUMN rating SET NOT NULL",
        "ALTER TABLE posts ALTER COLUMN rating DROP NOT NULL",
    ),
]
