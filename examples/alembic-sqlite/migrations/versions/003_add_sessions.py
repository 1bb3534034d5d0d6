"""Create the sessions table and link memories to it.

Revision ID: 003
Revises: 002
Create Date: 2026-03-02

Each memory now belongs to the session that produced it.
"""

from alembic import op
import sqlalchemy as sa

revision = "003"
down_revision = "002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create sessions; add memories.session_id."""
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    with op.batch_alter_table("memories") as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.String(), nullable=True))
        batch_op.create_index("ix_memories_session_id", ["session_id"])
        batch_op.create_foreign_key(
            "fk_memories_session", "sessions", ["session_id"], ["id"]
        )


def downgrade() -> None:
    """Undo 003 in reverse order."""
    with op.batch_alter_table("memories") as batch_op:
        batch_op.drop_constraint("fk_memories_session", type_="foreignkey")
        batch_op.drop_index("ix_memories_session_id")
        batch_op.drop_column("session_id")
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
