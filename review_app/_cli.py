"""The ``risk review`` command: open the review app over a review store.

``register`` is this package's entry of the ``risk.commands`` entry-point group, which the
``risk`` console script discovers; ``risk`` itself never imports the review app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from risk.regions import RegionPack

from risk.commands import open_review_store, quiet_libraries, user_errors


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
        lang: Annotated[
            str,
            typer.Option(
                "--lang",
                help=(
                    "ru or en: for a browser that asks for neither (the app follows the "
                    "browser's language, or ?lang= in the address)."
                ),
            ),
        ] = "ru",
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack served, a folder or a shipped pack's name: district names, "
                "services, working calendar and review deadlines (default: the shipped "
                "novgorod pack).",
                show_default=False,
            ),
        ] = None,
        max_login_hours: Annotated[
            float,
            typer.Option("--max-login-hours", help="Refuse requests of older logins (hours)."),
        ] = 8.0,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                help="Processes serving the app, each browser kept with one (0: one per CPU "
                "core, at most 4). One process uses one core; an office of dozens wants more.",
            ),
        ] = 0,
        escalate_every: Annotated[
            float,
            typer.Option(
                "--escalate-every",
                help="Minutes between escalation sweeps while the app is up (0: no sweeps).",
            ),
        ] = 5.0,
    ) -> None:
        """Serve the review app: specialists log in, review flagged families and decide.

        The score is advisory; every decision is a person's, with a written rationale. While
        the app is up, overdue items and follow-ups escalate to supervisors on a schedule (the
        sweep of "risk escalate"); nothing is ever closed by it.
        """
        quiet_libraries()
        from review_app import serve

        if not max_login_hours > 0:
            raise ValueError(f"--max-login-hours must be positive; got {max_login_hours}")
        if workers < 0:
            raise ValueError(f"--workers must be 0 (one per core) or more; got {workers}")
        if escalate_every < 0:
            raise ValueError(f"--escalate-every must be 0 or more minutes; got {escalate_every}")
        queue = open_review_store(store)
        queue.migrate()
        from risk.regions import DEFAULT_REGION, load_region

        pack = load_region(region or DEFAULT_REGION)  # read once: names, services, calendar
        deadlines = _use_region(pack)
        from review_app._workers import default_workers

        processes = workers or default_workers()
        typer.echo(
            f"review store: {queue!r}; {processes} process{'es' if processes > 1 else ''}; "
            f"open http://{host}:{port}/ (Ctrl+C to stop)"
        )
        from datetime import timedelta

        scheduler = None
        if escalate_every > 0:
            from review_app._scheduler import start_escalation

            scheduler = start_escalation(queue, every_minutes=escalate_every, **deadlines)
        try:
            serve(
                queue,
                host=host,
                port=port,
                lang=lang,
                model_uri=model,
                block=True,
                max_login_age=timedelta(hours=max_login_hours),
                region=pack,
                workers=processes,
            )
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)


def _use_region(region: RegionPack | str | None) -> dict[str, Any]:
    """Make the app count working days and deadlines as the region's pack says.

    ``region``: a loaded pack, or a pack's folder or shipped name (None: the default pack).
    Returns the sweep's calendar and deadlines. ``serve`` builds its own service, so the pack's
    calendar and SLA are set as the service's defaults.
    """
    from review_app._admin import Administration
    from review_app._service import ReviewService
    from risk.regions import DEFAULT_REGION, RegionPack, load_region
    from risk.review import WorkingCalendar

    pack = region if isinstance(region, RegionPack) else load_region(region or DEFAULT_REGION)
    calendar = WorkingCalendar.for_region(pack)
    Administration.default_districts = tuple(pack.district_codes)
    ReviewService.default_calendar = calendar
    deadlines: dict[str, Any] = {"calendar": calendar}
    if pack.review is not None:
        ReviewService.default_sla_working_days = pack.review.sla_working_days
        ReviewService.first_contact_working_days = pack.review.first_contact_working_days
        deadlines["sla_working_days"] = pack.review.sla_working_days
        deadlines["first_contact_working_days"] = pack.review.first_contact_working_days
    return deadlines
