"""Alembic environment of the review store: ``ReviewQueue.migrate()`` runs it.

From the command line: ``alembic -x ... -c <ini with script_location=risk/review/migrations>``;
the URL comes from ``sqlalchemy.url`` or ``RISK_STORE_URL``.
"""

from alembic import context

from risk.review._store import run_env


def _inside_alembic() -> bool:
    try:
        context.config  # noqa: B018 - the proxy exists only while Alembic runs this file
    except (AttributeError, NameError):  # imported elsewhere (e.g. pytest --doctest-modules)
        return False
    return True


if _inside_alembic():
    run_env(context)
