"""apps.working_hours, chats.missed_notified_at, an index on messages.file_id

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("working_hours", sa.JSON(), nullable=True))
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("missed_notified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_messages_file", "messages", ["file_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_file", "messages")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("missed_notified_at")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("working_hours")
