"""The ``risk users`` commands: add, list and administer the people who review flags."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from risk.commands._common import review_store, user_errors

if TYPE_CHECKING:
    import pandas as pd

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db).",
        show_default=False,
    ),
]
NameArgument = Annotated[str, typer.Argument(help="Login name of the user.")]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by", help="Name of the admin making the change (default: $USER).", show_default=False
    ),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="Region pack whose districts users may be given.",
        show_default="the default region",
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def _actor(by: str | None) -> str:
    return by or os.environ.get("USER") or getpass.getuser()


def _password(name: str, from_stdin: bool) -> str:
    # Never an argument: it would land in the shell's history and the process list.
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True))


def check_districts(districts: list[str], region: str | None) -> None:
    """Refuse districts that are not in the region pack (the store does not know the region).

    Raises
    ------
    risk.review.InvalidUser
        Naming the unknown districts and the region.
    """
    from risk.regions import DEFAULT_REGION, load_region
    from risk.review import InvalidUser

    pack = load_region(region or DEFAULT_REGION)
    unknown = sorted(set(districts) - set(pack.district_codes))
    if unknown:
        raise InvalidUser(
            f"district{'s' * (len(unknown) != 1)} not in region {pack.code}: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(pack.district_codes))})"
        )


def _describe(row: Mapping[Hashable, Any]) -> str:
    import pandas as pd

    until = row["locked_until"]
    locked = f"\tlocked until {until:%Y-%m-%d %H:%M:%S} UTC" if pd.notna(until) else ""
    return (
        f"{row['name']}\t{row['role']}\t{','.join(row['districts']) or '-'}"
        f"\tfailed logins: {row['failed_logins']}{locked}"
        f"\t{'active' if row['active'] else 'disabled'}"
    )


def history_lines(history: pd.DataFrame) -> list[str]:
    """Render a user's audit history one readable line per row (time, who, what, details).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame([{"seq": 3, "at": "2025-07-01T09:00:00.000001+00:00",
    ...     "actor": "root", "action": "user_role_changed", "subject": "user anna",
    ...     "details": {"from": "specialist", "to": "supervisor"}}])
    >>> history_lines(rows)
    ['2025-07-01 09:00:00 UTC  root  user_role_changed  user anna  from=specialist to=supervisor']
    """
    lines = []
    for r in history.to_dict("records"):
        at = str(r["at"])[:19].replace("T", " ") + " UTC"
        details = " ".join(
            f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in sorted(r["details"].items())
        )
        lines.append(f"{at}  {r['actor']}  {r['action']}  {r['subject']}  {details}".rstrip())
    return lines


def register(app: typer.Typer) -> None:
    """Register ``risk users`` and its subcommands."""
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
        password_stdin: PasswordStdinOption = False,
        store: StoreOption = None,
    ) -> None:
        """Add a user; the password is hashed with scrypt and never stored or shown in clear."""
        password = _password(name, password_stdin)
        with review_store(store) as queue:
            user = queue.add_user(
                name, password, role, district or [], actor=f"cli:{getpass.getuser()}"
            )
        districts = ", ".join(sorted(user.districts)) or "none"
        typer.echo(f"added {user.role} {user.name} (districts: {districts})")

    @users.command("list")
    @user_errors
    def list_(store: StoreOption = None) -> None:
        """List users with their role, districts, state and lockout (never passwords)."""
        with review_store(store) as queue:
            frame = queue.users()
        if frame.empty:
            typer.echo("no users")
            return
        for row in frame.to_dict("records"):
            typer.echo(_describe(row))

    @users.command("disable")
    @user_errors
    def disable(name: NameArgument, by: ByOption = None, store: StoreOption = None) -> None:
        """Disable a user: refused at login and on their next request; their history stays."""
        with review_store(store) as queue:
            queue.disable_user(name, actor=_actor(by))
        typer.echo(f"disabled {name}")

    @users.command("enable")
    @user_errors
    def enable(name: NameArgument, by: ByOption = None, store: StoreOption = None) -> None:
        """Enable a disabled user again."""
        with review_store(store) as queue:
            queue.enable_user(name, actor=_actor(by))
        typer.echo(f"enabled {name}")

    @users.command("unlock")
    @user_errors
    def unlock(name: NameArgument, by: ByOption = None, store: StoreOption = None) -> None:
        """Clear a user's failed logins and lockout."""
        with review_store(store) as queue:
            queue.unlock_user(name, actor=_actor(by))
        typer.echo(f"unlocked {name}")

    @users.command("reset-password")
    @user_errors
    def reset_password(
        name: NameArgument,
        password_stdin: PasswordStdinOption = False,
        by: ByOption = None,
        store: StoreOption = None,
    ) -> None:
        """Set a new password (prompted twice, or from stdin; never as an argument)."""
        password = _password(name, password_stdin)
        with review_store(store) as queue:
            queue.reset_password(name, password, actor=_actor(by))
        typer.echo(f"password of {name} reset; failed logins cleared")

    @users.command("set-role")
    @user_errors
    def set_role(
        name: NameArgument,
        role: Annotated[str, typer.Argument(help="specialist, supervisor or admin.")],
        by: ByOption = None,
        store: StoreOption = None,
    ) -> None:
        """Change a user's role (the last active admin keeps theirs)."""
        with review_store(store) as queue:
            user = queue.set_role(name, role, actor=_actor(by))
        typer.echo(f"{user.name} is now {user.role}")

    @users.command("set-districts")
    @user_errors
    def set_districts(
        name: NameArgument,
        districts: Annotated[
            list[str] | None,
            typer.Argument(
                help="The user's districts (replacing the ones they have).", show_default=False
            ),
        ] = None,
        add_district: Annotated[
            list[str] | None,
            typer.Option(
                "--add-district", help="District to add (repeat for several).", show_default=False
            ),
        ] = None,
        remove_district: Annotated[
            list[str] | None,
            typer.Option(
                "--remove-district",
                help="District to remove (repeat for several).",
                show_default=False,
            ),
        ] = None,
        region: RegionOption = None,
        by: ByOption = None,
        store: StoreOption = None,
    ) -> None:
        """Replace a user's districts, or add and remove some; all must be in the region."""
        if not districts and not add_district and not remove_district:
            raise typer.BadParameter("give the districts, or --add-district/--remove-district")
        if districts and (add_district or remove_district):
            raise typer.BadParameter(
                "give the districts or --add-district/--remove-district, not both"
            )
        check_districts([*(districts or []), *(add_district or [])], region)
        with review_store(store) as queue:
            user = queue.set_districts(
                name,
                districts or None,
                add=add_district or (),
                remove=remove_district or (),
                actor=_actor(by),
            )
        typer.echo(f"{user.name}: districts {', '.join(sorted(user.districts)) or 'none'}")

    @users.command("history")
    @user_errors
    def history(name: NameArgument, store: StoreOption = None) -> None:
        """Show a user's audit history: logins, failures, decisions and account changes."""
        with review_store(store) as queue:
            rows = queue.user_history(name)
        if rows.empty:
            typer.echo(f"no history for {name}")
            return
        for line in history_lines(rows):
            typer.echo(line)

    app.add_typer(users, name="users")
