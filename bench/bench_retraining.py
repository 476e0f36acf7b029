"""Retraining with and without the treatment record, judged against outcomes without outreach.

Run: ``python -m bench.bench_retraining --families 6000 --seeds 1``. For each seed,
``risk simulate`` runs 4 quarters of outreach (2024) through the review store on the synthetic
Novosibirsk region (effect 0.3 for 12 months, agreement 0.9, acceptance 0.6, all districts);
the world then runs on with no new outreach. Once the label windows those quarters touched
have matured (records to mid-2026), the model is retrained twice on the same records and
treatment record: (a) ``[training] treatment = "ignore"`` (naive), (b) ``"censor"`` (the
default). Both score the next period's snapshot (2025-01-01) and are judged against the
truth's 12-month outcome **without outreach** (the potential outcome for the families outreach
reached; the registered outcome for the rest, whose two paths are one).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from family_risk._simulate import SimulateOptions, run_simulation
from features import build_snapshots
from risk.evaluation import read_simulation
from risk.metrics import evaluate
from risk.regions import load_region
from training import load_config, train

NEXT_PERIOD = pd.Timestamp("2025-01-01")


def one_seed(seed: int, families: int, workdir: Path) -> list[dict[str, object]]:
    """Simulate, retrain both ways, and return one row per model."""
    out = workdir / f"seed{seed}"
    opts = SimulateOptions(families=families, quarters=4, seed=seed, n_boot=5)
    run_simulation(opts, out)
    sim = read_simulation(out)
    cfg = load_config()
    X = build_snapshots(sim.records, [NEXT_PERIOD], lookback_days=cfg.model.lookback_days)
    fam = X.index.get_level_values("family_id").astype(str)
    snap = sim.truth.snapshots
    snap = snap[pd.to_datetime(snap["as_of"]) == NEXT_PERIOD].set_index("family_id")
    y0 = snap["label"].reindex(fam).to_numpy(dtype=float)
    pot = sim.truth.potential
    pot = pot[pd.to_datetime(pot["as_of"]) == NEXT_PERIOD].set_index("family_id")
    without = pot["label_without"].reindex(fam)
    y0 = np.where(without.notna(), without.to_numpy(dtype=float), y0)
    keep = ~np.isnan(y0)
    treated = sim.treatments.loc[sim.treatments["outreach_started_at"].notna(), "family_id"]
    helped = np.asarray(fam.isin(set(treated)))
    districts = sim.records.families.set_index("family_id")["district"].reindex(fam).to_numpy()
    capacity = load_region("novosibirsk").capacity
    rows: list[dict[str, object]] = []
    for mode, name in (("ignore", "naive (learns from treated outcomes)"), ("censor", "aware")):
        run = train(
            sim.records,
            dataclasses.replace(cfg, treatment=mode),
            treatments=sim.treatments,
            truth_snapshots=sim.truth.snapshots.assign(
                as_of=lambda f: pd.to_datetime(f["as_of"]).astype("datetime64[s]")
            ),
            compare_exclusions=False,
            n_boot=0,
        )
        p = run.model.predict_proba(X)
        m = evaluate(
            y0[keep].astype(int),
            p[keep],
            groups=districts[keep],
            capacity=capacity,
            tie_break=np.asarray(fam)[keep],
            n_boot=0,
        )
        h = helped & keep
        rows.append(
            {
                "seed": seed,
                "model": name,
                "auc": m["roc_auc"],
                "ece": m["ece"],
                "slope": m["calibration_slope"],
                "precision_at_capacity": m["precision_at_capacity"],
                "helped_families": int(h.sum()),
                "helped_predicted": float(p[h].mean()),
                "helped_true_without": float(y0[h].mean()),
                "windows_touched": int(run.metrics["treated_windows"]),
                "windows_censored": int(run.metrics["censored_windows"]),
            }
        )
        print(f"seed {seed} {mode} done", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    """Run the comparison and print the table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--families", type=int, default=6000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, help="Also write one row per seed and model here.")
    args = parser.parse_args()
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            rows.extend(one_seed(seed, args.families, Path(tmp)))
    table = pd.DataFrame(rows)
    if args.csv is not None:
        table.to_csv(args.csv, index=False)
    mean = table.drop(columns="seed").groupby("model", sort=False).mean()
    print(f"{args.seeds} seeds, {args.families} families, {time.perf_counter() - start:.0f} s")
    cols = [
        "auc",
        "ece",
        "slope",
        "precision_at_capacity",
        "helped_families",
        "helped_predicted",
        "helped_true_without",
        "windows_touched",
        "windows_censored",
    ]
    print("| model | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for model, r in mean.iterrows():
        cells = [
            f"{r[c]:.0f}" if c.startswith(("helped_fam", "windows")) else f"{r[c]:.3f}"
            for c in cols
        ]
        print(f"| {model} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
