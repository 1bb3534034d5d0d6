"""
Add a priority (not-null-default: NOT NULL without a DEFAULT)
"""
from yoyo import step

steps = [
    step(
        "ALTER TABLE users ADD COLUMN priority INTEGER NOT NULL",
        "ALTER TABLE users DROP COLUMN priority",
    ),
]
