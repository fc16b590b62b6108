"""handover_tokens: one-time tickets that move a visitor's chat to Parley's own page

`openIn: '_blank'` used to put the visitor's id and token in the new tab's link, and the
page adopted any such link (issue 13, finding 9: session fixation). Now the widget asks
for a short-lived token that is used once; only its SHA-256 is stored, here, so every
server process can exchange it. No existing table fits: operator_sessions needs an
operator, and events are the visitor's replayed log.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("visitor_id", sa.String(64), sa.ForeignKey("visitors.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("sealed_token", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handover_tokens_expires", "handover_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_handover_tokens_expires", "handover_tokens")
    op.drop_table("handover_tokens")
