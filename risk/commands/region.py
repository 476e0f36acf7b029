"""The ``risk region`` commands: check a region pack, list the shipped ones."""

from __future__ import annotations

from typing import Annotated

import typer

from risk.commands import EXIT_CODES_HELP, user_errors


def register(app: typer.Typer) -> None:
    """Register ``risk region check`` and ``risk region list``."""
    region = typer.Typer(
        help="Region packs: districts, capacity, services and new record types of a region.",
        no_args_is_help=True,
    )

    @region.command("check", epilog=EXIT_CODES_HELP)
    @user_errors
    def check(
        pack: Annotated[
            str, typer.Argument(help="A pack's folder, or the name of a shipped pack.")
        ],
    ) -> None:
        """Check a region pack: print every problem with its file and line or key."""
        from risk.regions import check_region, load_region

        problems = check_region(pack)
        if problems:
            for problem in problems:
                typer.echo(str(problem))
            n = len(problems)
            typer.secho(
                f"error: region pack {pack!r} has {n} problem{'s' * (n != 1)}",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(code=2)
        loaded = load_region(pack)
        own = ", ".join(f"{d} {c}" for d, c in loaded.capacity.per_district.items())
        typer.echo(
            f"{loaded.code}: {loaded.name_en} ({loaded.name_ru}), time zone {loaded.timezone}\n"
            f"  {len(loaded.districts)} districts, {len(loaded.services)} services, "
            f"{len(loaded.vocabulary_types)} new record types\n"
            f"  capacity {loaded.capacity.default} families per district"
            f"{f' ({own})' if own else ''}, minimum score {loaded.capacity.min_score:g}"
        )

    @region.command("list", epilog=EXIT_CODES_HELP)
    @user_errors
    def list_() -> None:
        """List the region packs shipped with the library."""
        from risk.regions import load_region, shipped_regions

        for name in shipped_regions():
            loaded = load_region(name)
            typer.echo(f"{name}\t{loaded.name_en}\t{loaded.name_ru}\t{loaded.path}")

    app.add_typer(region, name="region")
