"""The ``risk users`` commands: add and list the people who review flags."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from risk.commands._common import user_errors

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Register ``risk users add`` and ``risk users list``."""
    users = typer.Typer(
        help="Manage review users (specialists, supervisors, admins).", no_args_is_help=True
    )

    @users.command("add")
    @user_errors
    def add(
        name: Annotated[str, typer.Argument(help="Login name.")],
        role: Annotated[
            str, typer.Option("--role", help="specialist, supervisor or admin.", show_default=False)
        ],
        district: Annotated[
            list[str] | None,
            typer.Option(
                "--district",
                help="District the user may see (repeat for several).",
                show_default=False,
            ),
        ] = None,
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin", help="Read the password from the first line of stdin."
            ),
        ] = False,
        store: StoreOption = None,
    ) -> None:
        """Add a user; the password is hashed with scrypt and never stored or shown in clear."""
        import getpass

        from risk.review import ReviewQueue

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt(
                f"Password for {name}", hide_input=True, confirmation_prompt=True
            )
        with ReviewQueue(store) as queue:
            user = queue.add_user(
                name, password, role, district or [], actor=f"cli:{getpass.getuser()}"
            )
        districts = ", ".join(sorted(user.districts)) or "none"
        typer.echo(f"added {user.role} {user.name} (districts: {districts})")

    @users.command("list")
    @user_errors
    def list_(store: StoreOption = None) -> None:
        """List users with their role, districts and lockout state (never passwords)."""
        import pandas as pd

        from risk.review import ReviewQueue

        with ReviewQueue(store) as queue:
            frame = queue.users()
        if frame.empty:
            typer.echo("no users")
            return
        for row in frame.to_dict("records"):
            until = row["locked_until"]
            locked = f"  locked until {until:%Y-%m-%d %H:%M:%S} UTC" if pd.notna(until) else ""
            typer.echo(
                f"{row['name']}\t{row['role']}\t{','.join(row['districts']) or '-'}"
                f"\tfailed logins: {row['failed_logins']}{locked}"
            )

    app.add_typer(users, name="users")
