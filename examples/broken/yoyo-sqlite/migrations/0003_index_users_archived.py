"""
Index users by archived flag (if-exists-guard: no IF NOT EXISTS)
"""
from yoyo import step

steps = [
    step(
        "CREATE INDEX idx_users_archived ON users(archived)",
        "DROP INDEX IF EXISTS idx_users_archived",
    ),
]
