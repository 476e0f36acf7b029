"""Alembic revisions of the review store."""
