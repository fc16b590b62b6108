"""The database itself keeps "one open chat per visitor" and "one message per clientId per visitor"

Two partial unique indexes. Before them, rows the old race left behind (issue 19) are
repaired without losing anything: a visitor's extra open chats are closed (the newest
stays open), and a duplicated clientId is cleared on every copy but the first, so the
messages stay, only the idempotency key moves to one of them.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
VISITOR_CLIENT_ID = sa.text("author_kind = 'visitor' AND client_message_id IS NOT NULL")


def upgrade() -> None:
    op.execute("""
        UPDATE chats SET status = 'closed', closed_by = 'system', ended_at = CURRENT_TIMESTAMP
        WHERE status = 'open' AND EXISTS (
            SELECT 1 FROM chats AS newer
            WHERE newer.visitor_id = chats.visitor_id AND newer.status = 'open'
              AND (newer.started_at > chats.started_at
                   OR (newer.started_at = chats.started_at AND newer.id > chats.id)))
    """)
    op.execute("""
        UPDATE messages SET client_message_id = NULL
        WHERE author_kind = 'visitor' AND client_message_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM messages AS first
            WHERE first.author_kind = 'visitor' AND first.author_id = messages.author_id
              AND first.client_message_id = messages.client_message_id AND first.id < messages.id)
    """)
    op.create_index("uq_chats_one_open_per_visitor", "chats", ["visitor_id"], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index("uq_messages_visitor_client", "messages", ["author_id", "client_message_id"],
                    unique=True, sqlite_where=VISITOR_CLIENT_ID, postgresql_where=VISITOR_CLIENT_ID)


def downgrade() -> None:
    op.drop_index("uq_messages_visitor_client", table_name="messages")
    op.drop_index("uq_chats_one_open_per_visitor", table_name="chats")
