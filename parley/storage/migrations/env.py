"""Alembic environment: Parley runs migrations on a connection it hands over."""

from alembic import context

from parley.storage.models import Base, include_name

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `parley db upgrade`")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  include_name=include_name)
with context.begin_transaction():
    context.run_migrations()
