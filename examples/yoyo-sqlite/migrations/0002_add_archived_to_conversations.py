"""
Add an archived flag to conversations
"""
from yoyo import step

__depends__ = {"0001_initial"}

steps = [
    step(
        "ALTER TABLE conversations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE conversations DROP COLUMN archived",
    ),
]
