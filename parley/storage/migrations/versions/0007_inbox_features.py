"""canned responses, chat teams, operator avatars, app appearance defaults

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("shortcut", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("app_id", "shortcut", name="uq_canned_app_shortcut"),
    )
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), nullable=True))
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("avatar_url", sa.String(500), nullable=True))
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("appearance", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("appearance")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("avatar_url")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("team_id")
    op.drop_table("canned_responses")
