"""Queries the app runs (read by later rules that check indexes)."""

from sqlalchemy import text

RECENT = text(
    "SELECT id, content FROM memories WHERE status = :status ORDER BY created_at DESC"
)
