"""
Index posts by title (schema-consistency: posts has no title column)
"""
from yoyo import step

steps = [
    step(
        "CREATE INDEX IF NOT EXISTS idx_posts_title ON posts(title)",
        "DROP INDEX IF EXISTS idx_posts_title",
    ),
]
