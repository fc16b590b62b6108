"""apps.max_chats_per_operator (the queue), chats.properties

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("max_chats_per_operator", sa.Integer(), nullable=True))
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("properties", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("properties")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("max_chats_per_operator")
