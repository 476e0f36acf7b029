"""The ``risk audit-log`` commands: check the review store's hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from risk.commands._common import user_errors


def register(app: typer.Typer) -> None:
    """Register ``risk audit-log verify``."""
    audit_log = typer.Typer(help="The review store's append-only audit log.", no_args_is_help=True)

    @audit_log.command("verify")
    @user_errors
    def verify(
        store: Annotated[
            str | None,
            typer.Option(
                "--store",
                help="Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Check the hash chain; name the first broken row. Exit code 1 when it is broken."""
        from risk.review import verify_audit_log

        result = verify_audit_log(store)
        if result.ok:
            typer.echo(str(result))
            return
        typer.secho(str(result), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)

    app.add_typer(audit_log, name="audit-log")
