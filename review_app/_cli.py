"""The ``risk review`` command: open the review app over a review store.

``register`` is this package's entry of the ``risk.commands`` entry-point group, which the
``risk`` console script discovers; ``risk`` itself never imports the review app.
"""

from __future__ import annotations

from typing import Annotated

import typer

from risk.commands import user_errors


def register(app: typer.Typer) -> None:
    """Add ``risk review`` to ``app``."""

    @app.command("review")
    @user_errors
    def review(
        store: Annotated[
            str | None,
            typer.Option(
                "--store",
                help="Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db).",
                show_default=False,
            ),
        ] = None,
        model: Annotated[
            str | None,
            typer.Option("--model", help="Model URI, shown in the header.", show_default=False),
        ] = None,
        host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 7860,
        lang: Annotated[str, typer.Option("--lang", help="Language shown first: ru or en.")] = "ru",
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack served, a folder or a shipped pack's name: district names and "
                "services (default: the shipped novgorod pack).",
                show_default=False,
            ),
        ] = None,
        max_login_hours: Annotated[
            float,
            typer.Option("--max-login-hours", help="Refuse requests of older logins (hours)."),
        ] = 8.0,
    ) -> None:
        """Serve the review app: specialists log in, review flagged families and decide.

        The score is advisory; every decision is a person's, with a written rationale.
        """
        from review_app import serve
        from risk.regions import load_region
        from risk.review import ReviewQueue

        pack = load_region() if region is None else load_region(region)

        queue = ReviewQueue(store)
        queue.migrate()
        typer.echo(f"review store: {queue!r}; open http://{host}:{port}/ (Ctrl+C to stop)")
        from datetime import timedelta

        if not max_login_hours > 0:
            raise ValueError(f"--max-login-hours must be positive; got {max_login_hours}")
        serve(
            queue,
            host=host,
            port=port,
            lang=lang,
            model_uri=model,
            block=True,
            max_login_age=timedelta(hours=max_login_hours),
            region=pack,
        )
