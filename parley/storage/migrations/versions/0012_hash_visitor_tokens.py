"""visitors.token -> visitors.token_hash: only the SHA-256 of a visitor's token is kept

Tokens are bearer secrets (they open a visitor's chats and uploads); like operator
sessions, the database keeps only their SHA-256 in hex, so a leaked database or backup
opens nothing. Existing tokens are hashed in place (in Python, so SQLite and PostgreSQL
alike): the browsers that hold them keep working.

The downgrade can't give the tokens back: the column is renamed back, still holding the
hashes, so visitors from before it become new visitors on their next connection.

Revision ID: 0012
Revises: 0011
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    connection = op.get_bind()
    after = ""
    while True:
        # Keyset pages by id: a big table is neither read into memory at once nor
        # paged by OFFSET (each page would rescan the ones before it).
        rows = connection.execute(
            sa.text("SELECT id, token FROM visitors WHERE id > :after ORDER BY id LIMIT :batch"),
            {"after": after, "batch": BATCH}).all()
        if not rows:
            break
        connection.execute(sa.text("UPDATE visitors SET token = :hash WHERE id = :id"),
                           [{"id": visitor_id, "hash": hashlib.sha256(token.encode()).hexdigest()}
                            for visitor_id, token in rows])
        after = rows[-1][0]
    with op.batch_alter_table("visitors") as batch:
        batch.alter_column("token", new_column_name="token_hash", existing_type=sa.String(100),
                           type_=sa.String(64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("visitors") as batch:
        batch.alter_column("token_hash", new_column_name="token", existing_type=sa.String(64),
                           type_=sa.String(100), existing_nullable=False)
