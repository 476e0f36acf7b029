"""The ``risk audit-log`` commands: check the review store's hash-chained audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands._common import review_store, user_errors

_STORE_HELP = "Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db)."


def _read_anchor(value: str) -> tuple[int, str]:
    """``SEQ:HASH`` as given, or the first line of the file it names."""
    from risk.review import parse_anchor

    if ":" not in value and Path(value).is_file():
        value = Path(value).read_text(encoding="utf-8").strip().splitlines()[0]
    return parse_anchor(value)


def register(app: typer.Typer) -> None:
    """Register ``risk audit-log verify`` and ``risk audit-log anchor``."""
    audit_log = typer.Typer(help="The review store's append-only audit log.", no_args_is_help=True)

    @audit_log.command("verify")
    @user_errors
    def verify(
        store: Annotated[
            str | None, typer.Option("--store", help=_STORE_HELP, show_default=False)
        ] = None,
        anchor: Annotated[
            str | None,
            typer.Option(
                "--anchor",
                help="SEQ:HASH printed earlier by 'risk audit-log anchor' (or a file holding "
                "it): the log must still reach it.",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Check the chain, the anchor and the decisions; name the first broken row.

        Exit code 1 when it is broken.
        """
        from risk.review import verify_audit_log

        result = verify_audit_log(store, anchor=None if anchor is None else _read_anchor(anchor))
        if result.ok:
            typer.echo(str(result))
            return
        typer.secho(str(result), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)

    @audit_log.command("anchor")
    @user_errors
    def anchor(
        store: Annotated[
            str | None, typer.Option("--store", help=_STORE_HELP, show_default=False)
        ] = None,
    ) -> None:
        """Print the chain head as SEQ:HASH, to keep where the database administrator cannot write.

        Check it later with ``risk audit-log verify --anchor SEQ:HASH``.
        """
        from risk.review import verify_audit_log

        # Only an intact chain is worth anchoring (this also refuses a store that is not there).
        result = verify_audit_log(store)
        if not result.ok:
            typer.secho(str(result), fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1)
        with review_store(store) as queue:
            seq, digest = queue.audit_anchor()
        typer.echo(f"{seq}:{digest}")

    app.add_typer(audit_log, name="audit-log")
