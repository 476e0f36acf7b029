"""The ``risk features`` command: list the feature registry, or build features as of a date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk._io import write_atomically
from risk.commands._common import user_errors


def format_registry(lang: str = "en", region: str | None = None) -> str:
    """Render the feature registry as a plain-text table (name, role, domain, unit, description).

    Examples
    --------
    >>> print(format_registry().splitlines()[0].split())
    ['name', 'role', 'domain', 'unit', 'description']
    """
    from features import feature_specs
    from risk import region_vocabulary

    if lang not in ("en", "ru"):
        raise ValueError(f"--lang must be 'en' or 'ru'; got {lang!r}")
    specs = list(feature_specs(region_vocabulary(region)).values())
    width = max(len("name"), *(len(s.name) for s in specs))
    dom = max(len(s.domain) for s in specs)
    unit = max(len(s.unit) for s in specs)
    header = f"{'name':<{width}}  {'role':<7}  {'domain':<{dom}}  {'unit':<{unit}}  description"
    lines = [header, "-" * len(header)]
    for s in specs:
        text = s.description_ru if lang == "ru" else s.description_en
        lines.append(f"{s.name:<{width}}  {s.role:<7}  {s.domain:<{dom}}  {s.unit:<{unit}}  {text}")
    n_risk = sum(s.role == "risk" for s in specs)
    lines.append(f"{len(specs)} features: {n_risk} risk, {len(specs) - n_risk} context")
    return "\n".join(lines)


def write_parquet_atomically(frame: object, out: Path) -> Path:
    """Write a DataFrame to ``out`` through a temporary file and ``os.replace``."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    return write_atomically(
        out, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", compression="zstd")
    )


def register(app: typer.Typer) -> None:
    """Add ``risk features``."""

    @app.command("features")
    @user_errors
    def features(
        data: Annotated[
            Path | None, typer.Option("--data", help="Records directory (Parquet tables).")
        ] = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="As-of date T (YYYY-MM-DD).")
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Write the features to this Parquet file."),
        ] = None,
        lookback_days: Annotated[
            int, typer.Option("--lookback-days", help="Bounded lookback in days.")
        ] = 1095,
        list_: Annotated[
            bool, typer.Option("--list", help="Print the feature registry and exit.")
        ] = False,
        lang: Annotated[
            str, typer.Option("--lang", help="Language of descriptions for --list: en or ru.")
        ] = "en",
        engine: Annotated[
            str,
            typer.Option(
                "--engine",
                help="pandas (one machine) or spark (extra 'spark'; --data and --out may be "
                "cluster storage URLs; --out is a Parquet directory).",
            ),
        ] = "pandas",
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack whose vocabulary.toml adds record types and their features "
                "(default: built-in types only).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Build one row of features per family in the screening population as of a date."""
        if list_:
            typer.echo(format_registry(lang, region))
            return
        if data is None or as_of is None:
            raise typer.BadParameter("give --data DIR and --as-of DATE (or --list)")
        if engine not in ("pandas", "spark"):
            raise typer.BadParameter(f"--engine must be 'pandas' or 'spark'; got {engine!r}")
        if engine == "spark":
            from risk.spark._cli import features_on_spark

            for line in features_on_spark(data, as_of, out=out, lookback_days=lookback_days):
                typer.echo(line)
            return
        import time

        from features import build_features, context_features, load_records
        from risk import region_vocabulary

        vocabulary = region_vocabulary(region)
        started = time.perf_counter()
        records = load_records(data, vocabulary=vocabulary)
        loaded = time.perf_counter()
        frame = build_features(records, as_of, lookback_days=lookback_days, vocabulary=vocabulary)
        built = time.perf_counter()
        n_context = len(context_features())
        typer.echo(
            f"as of {as_of}: {len(frame):,} of {records.n_families:,} families in the screening "
            f"population, {frame.shape[1]} features ({frame.shape[1] - n_context} risk, "
            f"{n_context} context); loaded in {loaded - started:.1f} s, built in "
            f"{built - loaded:.1f} s"
        )
        if out is not None:
            write_parquet_atomically(frame, out)
            typer.echo(f"wrote {out}")
