"""
Vectors for posts (no-virtual-tables: created at run time instead)
"""
from yoyo import step

steps = [
    step(
        "CREATE VIRTUAL TABLE IF NOT EXISTS post_vectors USING vec0(embedding float[384])",
        "DROP TABLE IF EXISTS post_vectors",
    ),
]
