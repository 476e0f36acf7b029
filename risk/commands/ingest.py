"""The ``risk ingest`` command: agency extracts in, a validated records folder out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands import EXIT_CODES_HELP, progress, user_errors

#: Unmapped codes and gaps listed on the terminal (all of them are in quality.json).
SHOWN = 10


def register(app: typer.Typer) -> None:
    """Add ``risk ingest``."""

    @app.command("ingest", epilog=EXIT_CODES_HELP)
    @user_errors
    def ingest(
        mapping: Annotated[
            Path, typer.Option("--mapping", help="Mapping file (TOML): see docs/ingest.md.")
        ],
        out: Annotated[Path, typer.Option("--out", help="Records folder to write.")],
        extraction_date: Annotated[
            str | None,
            typer.Option(
                "--extraction-date",
                help="YYYY-MM-DD; default the latest date found in the extracts.",
            ),
        ] = None,
        max_reject_rate: Annotated[
            float,
            typer.Option("--max-reject-rate", help="Share of rows that may be rejected (0 to 1)."),
        ] = 0.0,
        report_dir: Annotated[
            Path | None,
            typer.Option(
                "--report-dir",
                help="Folder for rejects.csv, quality.json and quality.html; default OUT-report.",
            ),
        ] = None,
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack, a folder or a shipped pack's name, whose vocabulary.toml adds "
                "record types the mapping's codes may map to (default: built-in types only).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Turn agency extracts (CSV, xlsx, Parquet, SQL) into validated record tables."""
        from risk import region_vocabulary
        from risk.ingest import RejectRateError
        from risk.ingest import ingest as run

        if not 0.0 <= max_reject_rate <= 1.0:
            raise typer.BadParameter("must be between 0 and 1", param_hint="--max-reject-rate")
        try:
            result = run(
                mapping,
                out,
                extraction_date=extraction_date,
                max_reject_rate=max_reject_rate,
                report_dir=report_dir,
                progress=progress,
                event_types=region_vocabulary(region).event_types,
            )
        except RejectRateError:
            reports = report_dir or out.parent / f"{out.name}-report"
            typer.echo(f"reports in {reports}", err=True)
            raise
        typer.echo(format_summary(result.summary, result.out, result.report_dir))


def format_summary(summary: dict, out: Path | None, reports: Path) -> str:
    """Render rows taken and rejected per extract, unmapped codes, gaps and where files went."""
    lines = [f"{'extract':<20}{'table':<10}{'rows':>12}{'taken':>12}{'rejected':>10}"]
    for name, e in summary["extracts"].items():
        lines.append(
            f"{name:<20}{e['table']:<10}{e['rows']:>12,}{e['taken']:>12,}{e['rejected']:>10,}"
        )
    lines.append(
        f"rejected {summary['rejected']:,} of {summary['rows']:,} rows "
        f"({summary['reject_rate']:.2%}); extraction date {summary['extraction_date']}"
    )
    unmapped = summary["unmapped_codes"]
    if unmapped:
        lines.append(f"unmapped codes ({len(unmapped)}; extend the mapping):")
        lines += [
            f"  {u['extract']}.{u['column']} {u['value']!r}: {u['rows']:,} rows"
            for u in unmapped[:SHOWN]
        ]
    gaps = summary["gaps"]
    if gaps:
        lines.append(f"feed gaps ({len(gaps)}): a missing feed is not low risk")
        lines += [
            f"  {g['source']} in {g['district']}, {g['month']}: {g['kind']}, "
            f"{g['observed']:,} rows where {g['expected']:g} are usual"
            for g in gaps[:SHOWN]
        ]
    else:
        lines.append("feed gaps: none")
    if out is not None:
        lines.append(f"wrote {out}")
    lines.append(f"reports in {reports} (rejects.csv, quality.json, quality.html)")
    return "\n".join(lines)
