"""Coverage of the evaluation designs' 95% intervals over seeds, with a known effect and none.

Run: ``python -m bench.bench_evaluation --seeds 20 --families 5000``. For each seed and each
outreach effect (0.3 and 0), :func:`risk.evaluation.simulate_outreach` runs 8 quarters of the
Novosibirsk pilots-first rollout (oracle scores with log-odds noise 0.3, capacity 5% of each
district's screened families, acceptance 0.7), and :func:`risk.evaluation.evaluate` estimates
the effect by every design. An interval *covers* when it contains the truth computed from the
potential outcomes (0 when the effect is 0).
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from risk.evaluation import evaluate, rollout_schedule, simulate_outreach


def main() -> None:
    """Run the study and print the coverage table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--families", type=int, default=5000)
    args = parser.parse_args()
    plan = rollout_schedule("novosibirsk")
    rows = []
    start = time.perf_counter()
    for effect in (0.3, 0.0):
        for seed in range(args.seeds):
            sim = simulate_outreach(
                args.families, seed, rollout=plan, quarters=8, outreach_effect=effect
            )
            ev = evaluate(sim, seed=seed)
            print(f"effect {effect} seed {seed} done", file=sys.stderr, flush=True)
            for e in ev.estimates:
                truth = 0.0 if e.truth is None else e.truth
                rows.append(
                    {
                        "effect": effect,
                        "design": e.design,
                        "outcome": e.outcome,
                        "estimate": e.estimate,
                        "truth": truth,
                        "covers": e.covers(truth),
                        "covers_0": e.covers(0.0),
                        "width": e.ci_high - e.ci_low,
                    }
                )
    frame = pd.DataFrame(rows)
    table = (
        frame.groupby(["effect", "design", "outcome"], sort=False)
        .agg(
            seeds=("covers", "size"),
            coverage=("covers", "mean"),
            covers_0=("covers_0", "mean"),
            mean_truth=("truth", "mean"),
            mean_estimate=("estimate", "mean"),
            mean_width=("width", "mean"),
        )
        .reset_index()
    )
    header = "| " + " | ".join(table.columns) + " |"
    print(header + "\n|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")
    print(f"\n{len(frame)} estimates in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
