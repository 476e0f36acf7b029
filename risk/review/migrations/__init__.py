"""Alembic migrations of the review store (run by ``ReviewQueue.migrate``)."""
