"""operators.chosen_status (online / away / offline, set in the inbox), apps.languages

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("chosen_status", sa.String(10), nullable=False, server_default="online"))
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("languages")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("chosen_status")
