"""Alembic migrations of the store (``smsgw db upgrade``)."""
