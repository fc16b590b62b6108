"""operator_sockets: operator presence that holds across server processes

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_sockets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("operator_id", sa.String(32), sa.ForeignKey("operators.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("server_id", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_operator_sockets_operator", "operator_sockets", ["operator_id"])
    op.create_index("ix_operator_sockets_server", "operator_sockets", ["server_id"])
    op.create_index("ix_operator_sockets_expires", "operator_sockets", ["expires_at"])
    # Presence is now derived from these rows, and there are none yet: an "online" left
    # behind by a process that died before this version would never be cleared.
    op.execute(sa.text("UPDATE operators SET presence = 'offline'"))


def downgrade() -> None:
    op.drop_index("ix_operator_sockets_expires", "operator_sockets")
    op.drop_index("ix_operator_sockets_server", "operator_sockets")
    op.drop_index("ix_operator_sockets_operator", "operator_sockets")
    op.drop_table("operator_sockets")
