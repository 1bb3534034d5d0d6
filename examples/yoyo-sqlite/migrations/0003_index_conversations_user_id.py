"""
Index conversations by user
"""
from yoyo import step

__depends__ = {"0002_add_archived_to_conversations"}

steps = [
    step(
        "CREATE INDEX IF NOT EXISTS idx_conversations_user_id ON conversations(user_id)",
        "DROP INDEX IF EXISTS idx_conversations_user_id",
    ),
]
