"""Against whom a contribution is measured: the typical family or the average family.

Run: ``python -m bench.bench_baseline --results bench/RESULTS.md``. Trains the configured model
(monotone constraints included) on the committed sample, then explains the same rows (the
run's SHAP sample) two ways: against the typical family (the model's ``reference``, each
input's training median: what screening does) and against the average family (LightGBM's
path-dependent TreeSHAP, ``pred_contrib``: what models without a reference get). For each, it
prints the rows explained per second, how many lines of a constrained problem signal beyond the
median exist, how many of them are negative ("lowers"), and the largest gap between a row's
contributions plus base and its log-odds.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from bench._util import append_section, machine
from features import load_records
from training import load_config, load_truth, train

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "sample"


def measure(repeats: int = 3) -> list[dict[str, float | str]]:
    """Train once; explain the SHAP sample against each baseline (best of ``repeats``)."""
    cfg = load_config()
    truth_snapshots, truth_families = load_truth(SAMPLE)
    run = train(
        load_records(SAMPLE),
        cfg,
        truth_snapshots=truth_snapshots,
        truth_families=truth_families,
        n_boot=20,
    )
    model, X = run.model, run.shap_values_sample
    assert model.reference is not None
    lgb = cfg.lightgbm
    signals = [(f, 1) for f in lgb.monotone_increasing if f in model.features] + [
        (f, -1) for f in lgb.monotone_decreasing if f in model.features
    ]
    out: list[dict[str, float | str]] = []
    for name, m in (("typical", model), ("average", dataclasses.replace(model, reference=None))):
        m.contributions(X.head(10))  # build the explainer once, outside the timing
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            contrib, base = m.contributions(X)
            best = min(best, time.perf_counter() - start)
        lines = negative = 0
        for feature, direction in signals:
            beyond = ((X[feature] - model.reference[feature]) * direction > 0).to_numpy()
            lines += int(beyond.sum())
            negative += int((contrib[feature].to_numpy()[beyond] < -1e-9).sum())
        gap = float(np.abs(contrib.sum(axis=1) + base - m.log_odds(X)).max())
        out.append(
            {
                "baseline": name,
                "rows": len(X),
                "rows_per_s": len(X) / best,
                "lines": lines,
                "negative": negative,
                "gap": gap,
                "trees": int(m.booster.num_trees()),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, help="write the section into this file")
    args = parser.parse_args()
    rows = measure(args.repeats)
    table = [
        "| baseline | rows | rows/s | lines beyond the median | negative | max sum gap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        share = int(r["negative"]) / max(int(r["lines"]), 1)
        table.append(
            f"| {r['baseline']} family | {r['rows']} | {float(r['rows_per_s']):,.0f} | "
            f"{r['lines']:,} | {r['negative']:,} ({share:.1%}) | {float(r['gap']):.1e} |"
        )
    body = (
        "Committed sample, configured model (monotone constraints, "
        f"{rows[0]['trees']} trees), its SHAP sample explained both ways, best of "
        f"{args.repeats}. `python -m bench.bench_baseline --results bench/RESULTS.md`; "
        f"{machine()}.\n\n" + "\n".join(table) + "\n"
    )
    print(body)
    if args.results:
        append_section(args.results, "Explanation baseline: typical against average family", body)


if __name__ == "__main__":
    main()
