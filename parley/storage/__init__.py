"""Storage: models, the engine, queries and Alembic migrations."""
