"""The ``risk audit`` command: a fairness audit of any scored table, written as CSV and PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from risk._io import write_atomically
from risk.commands._common import user_errors

if TYPE_CHECKING:
    import pandas as pd

#: File extensions ``--scores`` may have, and how each is read.
READERS: dict[str, str] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def read_scores(path: Path) -> pd.DataFrame:
    """Read a scored table from Parquet or CSV, chosen by the file's extension."""
    import pandas as pd

    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"--scores {path}: unknown extension {path.suffix!r}; use one of {sorted(READERS)}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"--scores {path}: no such file")
    return pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path)


def register(app: typer.Typer) -> None:
    """Add ``risk audit``."""

    @app.command("audit")
    @user_errors
    def audit_command(
        scores: Annotated[
            Path, typer.Option("--scores", help="Scored table: Parquet (.parquet) or CSV (.csv).")
        ],
        score: Annotated[str, typer.Option("--score", help="Column of scores.")],
        label: Annotated[
            str,
            typer.Option("--label", help="Column of binary outcomes (e.g. label, or distress)."),
        ],
        group: Annotated[
            list[str], typer.Option("--group", help="Attribute column to audit by (repeatable).")
        ],
        threshold: Annotated[
            float | None, typer.Option("--threshold", help="Flag scores >= this value.")
        ] = None,
        top_k: Annotated[
            int | None, typer.Option("--top-k", help="Flag the K highest scores.")
        ] = None,
        top_k_by: Annotated[
            str | None,
            typer.Option("--top-k-by", help="Apply --top-k within each value of this column."),
        ] = None,
        flagged: Annotated[
            str | None,
            typer.Option("--flagged", help="Audit an existing 0/1 flag column instead."),
        ] = None,
        tie_break: Annotated[
            str | None,
            typer.Option("--tie-break", help="Column ordering equal scores for --top-k (ids)."),
        ] = None,
        out: Annotated[
            Path, typer.Option("--out", help="Directory for audit.csv and audit.png.")
        ] = Path("audit"),
        n_boot: Annotated[
            int, typer.Option("--n-boot", help="Bootstrap resamples per group (0: none).")
        ] = 200,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
        lang: Annotated[str, typer.Option("--lang", help="Language of the plot: en or ru.")] = "en",
    ) -> None:
        """Audit flags and scores by group: rates, errors, calibration, ratios to a reference.

        Writes OUT/audit.csv (one row per attribute and group) and OUT/audit.png, and prints a
        table in which ! marks a ratio outside [0.8, 1.25].
        """
        from risk._plots import audit_plot
        from risk.fairness import audit, summarize

        if lang not in ("en", "ru"):
            raise ValueError(f"--lang must be 'en' or 'ru'; got {lang!r}")
        frame = read_scores(scores)
        table = audit(
            frame,
            score=score,
            label=label,
            groups=group,
            threshold=threshold,
            top_k=top_k,
            top_k_by=top_k_by,
            flagged=flagged,
            tie_break=tie_break,
            n_boot=n_boot,
            seed=seed,
        )
        csv_path = write_atomically(out / "audit.csv", lambda tmp: table.to_csv(tmp, index=False))
        figure = audit_plot(table, lang=cast(Literal["en", "ru"], lang))
        png_path = write_atomically(
            out / "audit.png", lambda tmp: figure.savefig(tmp, format="png", dpi=120)
        )
        typer.echo(summarize(table))
        typer.echo(f"wrote {csv_path} and {png_path}")
