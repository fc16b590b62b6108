"""files (attachments), read receipts, chat ratings and transcript requests

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Logged-in users' ids (up to 64 chars) became visitor ids after 0002 was written.
_VISITOR_ID_COLUMNS = [("visitors", "id"), ("chats", "visitor_id"), ("events", "visitor_id"),
                       ("page_views", "visitor_id"), ("messages", "author_id")]


def upgrade() -> None:
    for table, column in _VISITOR_ID_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(64), existing_type=sa.String(32))
    op.create_table(
        "files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_id", sa.String(32), sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
        sa.Column("visitor_id", sa.String(64), sa.ForeignKey("visitors.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("uploader_kind", sa.String(10), nullable=False),
        sa.Column("uploader_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_files_app_created", "files", ["app_id", "created_at"])
    op.create_index("ix_files_visitor", "files", ["visitor_id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("file_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("rating", sa.String(4), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("transcript_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("transcript_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        for column in ("closed_by", "transcript_requested_at", "transcript_email",
                       "rated_at", "rating_comment", "rating"):
            batch.drop_column(column)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("seen_at")
        batch.drop_column("file_id")
    op.drop_index("ix_files_visitor", "files")
    op.drop_index("ix_files_app_created", "files")
    op.drop_table("files")
    for table, column in reversed(_VISITOR_ID_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(32), existing_type=sa.String(64))
