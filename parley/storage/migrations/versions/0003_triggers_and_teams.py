"""triggers, teams and team members; round-robin assignment; logged-in user ids as visitor ids

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A logged-in user's id (up to 64 chars) becomes a visitor id: widen every column holding one.
# SQLite ignores VARCHAR lengths, and recreating these tables there (batch mode) would
# fire ON DELETE CASCADE, so only other databases are altered.
VISITOR_ID_COLUMNS = [("visitors", "id"), ("page_views", "visitor_id"), ("chats", "visitor_id"),
                      ("messages", "author_id"), ("events", "visitor_id")]


def _widen_visitor_ids(length: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in VISITOR_ID_COLUMNS:
        op.alter_column(table, column, type_=sa.String(length), existing_nullable=column == "author_id")


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_triggers_app", "triggers", ["app_id"])

    op.create_table(
        "teams",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_teams_app", "teams", ["app_id"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(32), sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("operator_id", sa.String(32), sa.ForeignKey("operators.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_team_members_operator", "team_members", ["operator_id"])

    # A plain ADD COLUMN (no table rebuild): the operators' sessions must survive.
    op.add_column("operators", sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True))
    _widen_visitor_ids(64)


def downgrade() -> None:
    _widen_visitor_ids(32)
    op.drop_column("operators", "last_assigned_at")
    op.drop_index("ix_team_members_operator", "team_members")
    op.drop_table("team_members")
    op.drop_index("ix_teams_app", "teams")
    op.drop_table("teams")
    op.drop_index("ix_triggers_app", "triggers")
    op.drop_table("triggers")
