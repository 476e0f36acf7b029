"""The ``risk synth`` command: write a synthetic population that knows the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands._common import user_errors


def register(app: typer.Typer) -> None:
    """Add ``risk synth``."""

    @app.command("synth")
    @user_errors
    def synth(
        out: Annotated[Path, typer.Option("--out", help="Directory to write the population to.")],
        families: Annotated[int, typer.Option("--families", help="Number of families.")] = 2000,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        profile: Annotated[
            str, typer.Option("--profile", help="Regional profile: novgorod or novosibirsk.")
        ] = "novgorod",
        start: Annotated[str, typer.Option("--start", help="First day of records.")] = "2020-01-01",
        end: Annotated[str, typer.Option("--end", help="Extraction date.")] = "2025-12-31",
        surveillance_bias: Annotated[
            float,
            typer.Option(
                "--surveillance-bias",
                help="Multiplier on police and social-protection recording for low-income "
                "families.",
            ),
        ] = 1.0,
        label_bias: Annotated[
            float,
            typer.Option(
                "--label-bias",
                help="Multiplier on how often a low-income family's crisis is registered.",
            ),
        ] = 1.0,
        outreach_effect: Annotated[
            float,
            typer.Option(
                "--outreach-effect",
                help="Fraction by which outreach lowers a treated family's monthly hazards of "
                "rising distress and of a registered crisis (0: no effect). Acts only on the "
                "families of --treatments.",
            ),
        ] = 0.3,
        effect_months: Annotated[
            int, typer.Option("--effect-months", help="Months the lowered hazard lasts.")
        ] = 12,
        treatments: Annotated[
            Path | None,
            typer.Option(
                "--treatments",
                help="Parquet or CSV table family_id, start_date: outreach given to these "
                "families from these dates; the truth then holds their outcomes with and "
                "without it (truth/potential_outcomes.parquet).",
            ),
        ] = None,
    ) -> None:
        """Generate records, truth/ and manifest.json for a synthetic population."""
        import pandas as pd
        from tqdm.auto import tqdm

        from risk.synth import generate, write_population

        given = None
        if treatments is not None:
            given = (
                pd.read_csv(treatments)
                if treatments.suffix == ".csv"
                else pd.read_parquet(treatments)
            )

        with tqdm(total=None, desc="simulating months", unit="month", disable=None) as bar:

            def tick(done: int, total: int) -> None:
                bar.total = total
                bar.update(1)

            records, truth = generate(
                families,
                seed,
                profile=profile,
                start=start,
                end=end,
                surveillance_bias=surveillance_bias,
                label_bias=label_bias,
                outreach_effect=outreach_effect,
                effect_months=effect_months,
                treatments=given,
                on_month=tick,
            )
        path = write_population(records, truth, out)
        typer.echo(format_manifest(truth.manifest, path))


def format_manifest(manifest: dict, path: Path | None = None) -> str:
    """Render the counts, figures against targets and oracle quality of a population."""
    lines = []
    if path is not None:
        lines.append(f"wrote {path}")
    counts = manifest["counts"]
    lines.append(
        "families {families:,}  members {members:,}  children<18 {children_under_18:,}  "
        "events {events:,}  outcomes {outcomes:,}".format(**counts)
    )
    lines.append(f"{'figure':<24}{'value':>10}{'target':>10}{'rel.diff':>10}")
    for name, value in manifest["figures"].items():
        target = manifest["targets"][name]
        rel = (value - target) / target if target else float("nan")
        lines.append(f"{name:<24}{value:>10.4f}{target:>10.4f}{rel:>+10.1%}")
    oracle = manifest["oracle"]
    aucs = [v["roc_auc"] for v in oracle.values()]
    briers = [v["brier"] for v in oracle.values()]
    lines.append(
        f"oracle over {len(oracle)} as-of dates: ROC AUC {min(aucs):.3f}–{max(aucs):.3f}, "
        f"Brier {min(briers):.4f}–{max(briers):.4f}"
    )
    return "\n".join(lines)
