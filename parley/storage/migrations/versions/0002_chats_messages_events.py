"""visitor profiles, page views, chats, messages, events, operator sessions and presence

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(sa.Column("name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(50), nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("custom", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("user_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("country", sa.String(2), nullable=True))
        batch.add_column(sa.Column("language", sa.String(35), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(500), nullable=True))
        batch.add_column(sa.Column("last_event_seq", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_visitors_app_user", "visitors", ["app_id", "user_id"])

    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("presence", sa.String(10), nullable=False, server_default="offline"))
    op.create_index("ix_operators_app_presence", "operators", ["app_id", "presence"])

    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.String(32), sa.ForeignKey("operators.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_operator_sessions_operator", "operator_sessions", ["operator_id"])

    op.create_table(
        "page_views",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("visitor_id", sa.String(32), sa.ForeignKey("visitors.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("referrer", sa.Text(), nullable=False),
        sa.Column("utm", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_page_views_visitor_created", "page_views", ["visitor_id", "created_at"])

    op.create_table(
        "chats",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("visitor_id", sa.String(32), sa.ForeignKey("visitors.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("operator_ids", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_chats_app_status_started", "chats", ["app_id", "status", "started_at"])
    op.create_index("ix_chats_visitor_status", "chats", ["visitor_id", "status"])

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.String(32), sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_kind", sa.String(10), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client_message_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_id", "client_message_id", name="uq_messages_chat_client"),
    )
    op.create_index("ix_messages_chat_id", "messages", ["chat_id", "id"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("visitor_id", sa.String(32), sa.ForeignKey("visitors.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("visitor_id", "seq", name="uq_events_visitor_seq"),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("messages")
    op.drop_index("ix_chats_visitor_status", "chats")
    op.drop_index("ix_chats_app_status_started", "chats")
    op.drop_table("chats")
    op.drop_table("page_views")
    op.drop_table("operator_sessions")
    op.drop_index("ix_operators_app_presence", "operators")
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("presence")
    op.drop_index("ix_visitors_app_user", "visitors")
    with op.batch_alter_table("visitors") as batch:
        for column in ("last_event_seq", "user_agent", "language", "country", "user_id", "verified",
                       "custom", "notes", "phone", "email", "name"):
            batch.drop_column(column)
