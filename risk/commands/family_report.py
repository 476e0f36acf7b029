"""The ``risk family-report`` command: a family's own view of what is held about it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands import EXIT_CODES_HELP, user_errors


def register(app: typer.Typer) -> None:
    """Register ``risk family-report``."""

    @app.command("family-report", epilog=EXIT_CODES_HELP)
    @user_errors
    def family_report(
        family_id: Annotated[str, typer.Argument(help="The family's reference.")],
        user: Annotated[
            str,
            typer.Option(
                "--user",
                help="The specialist producing it (needs access to the family's district).",
                show_default=False,
            ),
        ],
        data: Annotated[
            Path | None,
            typer.Option(
                "--data",
                help="Records directory (Parquet tables); default: the records the review showed.",
            ),
        ] = None,
        store: Annotated[
            str | None,
            typer.Option(
                "--store",
                help="Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db).",
                show_default=False,
            ),
        ] = None,
        lang: Annotated[str, typer.Option("--lang", help="ru or en.")] = "ru",
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="report.html or report.pdf (default: family-report-FAMILY_ID.html).",
                show_default=False,
            ),
        ] = None,
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack (name or folder): its services and record types.",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Write a family's report: records held and used, who decided, what was offered.

        In plain words, for the family (personal data law, Art. 14); it shows no score.
        Producing it is checked against your districts and written to the audit log.
        """
        from features import load_records
        from risk.family_report import (
            check_out,
            produce_family_report,
            region_context,
            write_family_report,
        )
        from risk.review import ReviewQueue

        target = check_out(out or Path(f"family-report-{family_id}.html"))
        catalog, names, types = region_context(region, lang)
        records = load_records(data) if data is not None else None
        with ReviewQueue(store) as queue:
            report = produce_family_report(
                queue,
                family_id,
                user,
                records=records,
                catalog=catalog,
                lang=lang,
                district_names=names,
                record_types=types,
            )
        typer.echo(f"wrote {write_family_report(report, target)}")
