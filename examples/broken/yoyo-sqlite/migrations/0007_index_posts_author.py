"""
Index posts by author (index-naming: not idx_posts_author_id)
"""
from yoyo import step

steps = [
    step(
        "CREATE INDEX IF NOT EXISTS posts_by_author ON posts(author_id)",
        "DROP INDEX IF EXISTS posts_by_author",
    ),
]
