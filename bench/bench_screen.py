"""Benchmark screening: features + calibrated score + tiers, and exact explanations of flags.

For each population size it takes the cached synthetic population of ``bench_features``
(generated once under ``bench/out/``, not timed), trains a quick calibrated model on two earlier
snapshots (or loads ``--model``), and then, in a fresh child process so that peak memory belongs
to this measurement alone, times:

1. ``Screener.screen(records, as_of)``: features, score, tiers and the batch of explanations of
   the flagged families (the target: 76,000 families <= 10 s; 1,000,000 <= 3 min and 8 GiB),
   with its parts: ``build_features``; ``model.log_odds`` against a bare ``booster.predict`` of
   the same matrix (the floor of scoring);
2. explanations of every flagged family (``model.contributions`` + ``Explanation`` objects,
   target <= 5 s) against ``shap.TreeExplainer(booster).shap_values`` on the same rows;
3. the review-queue payloads of all flags (needs, services, timeline; not a target).

Peak RSS is the child's ``ru_maxrss`` (it includes the loaded records).

Usage::

    python -m bench.bench_screen --families 76000 [1000000] [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from bench.bench_features import OUT, _reset_peak, _status_gib, population

DEFAULT_AS_OF = "2025-01-01"
TRAIN_DATES = ("2023-07-01", "2024-01-01")
#: Rows of training snapshots (enough for a realistic tree ensemble, quick to fit).
TRAIN_ROWS = 150_000


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def train_quick_model(records_dir: Path, out: Path) -> Path:
    """Fit LightGBM on two snapshots with outcome labels, Platt-calibrate, save to ``out``."""
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from features import build_snapshots, load_records, risk_features
    from risk import Calibration, Capacity, RiskModel

    records = load_records(records_dir)
    snaps = build_snapshots(records, list(TRAIN_DATES))
    if len(snaps) > TRAIN_ROWS:
        snaps = snaps.sample(TRAIN_ROWS, random_state=0)
    as_of = snaps.index.get_level_values("as_of")
    fam = snaps.index.get_level_values("family_id")
    outcomes = records.outcomes
    label = np.zeros(len(snaps), dtype=np.float64)
    for t in pd.DatetimeIndex(sorted(set(as_of))):
        dates = outcomes["outcome_date"]
        window = outcomes[(dates > t) & (dates <= t + pd.Timedelta(365, "D"))]
        hit = (as_of == t) & fam.isin(set(window["family_id"]))
        label[hit] = 1.0
    names = tuple(f for f in risk_features() if not f.startswith("disabled"))
    X = snaps.loc[:, list(names)].to_numpy(dtype=np.float64)
    params = {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1,
              "min_data_in_leaf": 50, "seed": 0, "deterministic": True}  # fmt: skip
    booster = lgb.train(params, lgb.Dataset(X, label), num_boost_round=200)
    margin = booster.predict(X, raw_score=True).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf).fit(margin, label)
    model = RiskModel(
        booster,
        names,
        Calibration(float(fit.intercept_[0]), float(fit.coef_[0, 0])),
        capacity=Capacity(default=25, min_score=0.05),
        version="bench",
    ).with_reference(snaps.loc[:, list(names)])  # explained as trained models are
    model.save(out)
    return out


def _best(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def measure(records_dir: Path, model_dir: Path, as_of: str, repeats: int) -> dict:
    """Time screening, its parts and explanations in this process; return the figures."""
    import numpy as np

    from features import build_features, load_records
    from risk import Screener, load_catalog

    t0 = time.perf_counter()
    records = load_records(records_dir)
    load_s = time.perf_counter() - t0
    screener = Screener.load(model_dir, catalog=load_catalog())
    model = screener.model

    rss_before = _peak_gib()
    reset = _reset_peak()  # VmHWM from here on: screening's own peak, loaded records included
    screen_s, screening = _best(lambda: screener.screen(records, as_of), repeats)
    peak_screen = _peak_gib()
    screen_hwm = _status_gib("VmHWM") if reset else float("nan")
    features_s, X = _best(
        lambda: build_features(records, as_of, lookback_days=model.lookback_days), repeats
    )
    # The reference gets the matrix LightGBM reads without copying (row-major float64).
    matrix = np.ascontiguousarray(X.loc[:, list(model.features)].to_numpy(dtype=np.float64))
    predict_s, _ = _best(lambda: model.booster.predict(matrix, raw_score=True), repeats)
    log_odds_s, _ = _best(lambda: model.log_odds(X), repeats)

    flagged = screening.flagged_ids
    explain_s, _ = _best(lambda: screening._explain_batch(flagged), repeats)
    rows = X.loc[flagged, list(model.features)].to_numpy(dtype=np.float64)
    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model.reference is None:
            explainer = shap.TreeExplainer(model.booster)
        else:  # the same explanation as the screener's: against the typical family
            typical = np.array([[model.reference[f] for f in model.features]])
            explainer = shap.TreeExplainer(
                model.booster, data=typical, feature_perturbation="interventional"
            )
        shap_s, _ = _best(lambda: explainer.shap_values(rows), repeats)
    payload_s, _ = _best(lambda: screening._payloads_for(flagged), 1)
    return {
        "families": int(records.n_families),
        "events": len(records.events),
        "population": len(screening.scores),
        "flagged": len(flagged),
        "features": len(model.features),
        "trees": int(model.booster.num_trees()),
        "load_s": load_s,
        "screen_s": screen_s,
        "features_s": features_s,
        "predict_s": predict_s,
        "log_odds_s": log_odds_s,
        "explain_s": explain_s,
        "shap_s": shap_s,
        "payloads_s": payload_s,
        "peak_rss_gib": _peak_gib(),
        "peak_rss_screen_gib": peak_screen,
        "screen_hwm_gib": screen_hwm,
        "rss_loaded_gib": rss_before,
    }


def report(r: dict, repeats: int) -> list[str]:
    """Human-readable lines for one size."""
    return [
        f"families {r['families']:,}  events {r['events']:,}  population {r['population']:,}  "
        f"flagged {r['flagged']:,}  model {r['features']} features, {r['trees']} trees",
        f"  load + validate          {r['load_s']:.2f} s (not part of screening)",
        f"  screen (all)             {r['screen_s']:.2f} s (best of {repeats}), "
        f"{r['population'] / r['screen_s']:,.0f} families/s",
        f"    build_features         {r['features_s']:.2f} s",
        f"    model.log_odds         {r['log_odds_s']:.3f} s vs booster.predict "
        f"{r['predict_s']:.3f} s (ratio {r['log_odds_s'] / r['predict_s']:.2f}x)",
        f"  explain flagged          {r['explain_s']:.3f} s for {r['flagged']} families vs "
        f"shap.TreeExplainer {r['shap_s']:.3f} s (ratio {r['explain_s'] / r['shap_s']:.2f}x)",
        f"  review payloads          {r['payloads_s']:.2f} s for {r['flagged']} flags",
        f"  peak RSS                 {r['peak_rss_screen_gib']:.2f} GiB after screening "
        f"({r['rss_loaded_gib']:.2f} GiB with records loaded; "
        f"{r['peak_rss_gib']:.2f} GiB with the comparisons)",
    ]


def write_results(path: Path, command: str, rows: list[dict], repeats: int) -> None:
    """Replace this benchmark's section of ``path`` (others' sections stay as they are)."""
    head = "## Screening"
    body = [
        head,
        "",
        f"`{command}` (best of {repeats} below 200,000 families, else 1; a fresh child process "
        "per size; model: LightGBM 200 trees, 31 leaves, Platt-calibrated; capacity 25 per "
        "district). *screen* = `Screener.screen`: features, calibrated score, tiers and the "
        "batch of exact explanations of flagged families. Targets: 76,000 families <= 10 s; "
        "explanations of all flags <= 5 s; 1,000,000 families <= 3 min and <= 8 GiB.",
        "",
        "| families | population | screen | families/s | build_features | log_odds / "
        "booster.predict | flags | explain flags | vs shap.TreeExplainer | payloads | "
        "peak RSS (screen) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        body.append(
            f"| {r['families']:,} | {r['population']:,} | {r['screen_s']:.2f} s | "
            f"{r['population'] / r['screen_s']:,.0f} | {r['features_s']:.2f} s | "
            f"{r['log_odds_s']:.3f} / {r['predict_s']:.3f} s "
            f"({r['log_odds_s'] / r['predict_s']:.2f}x) | {r['flagged']} | "
            f"{r['explain_s']:.3f} s | {r['shap_s']:.3f} s ({r['explain_s'] / r['shap_s']:.2f}x) | "
            f"{r['payloads_s']:.2f} s | {r['peak_rss_screen_gib']:.2f} GiB |"
        )
    text = path.read_text("utf-8") if path.exists() else "# Benchmark results\n"
    lines = text.rstrip("\n").split("\n")
    if head in lines:
        start = lines.index(head)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = [*body, ""] if end < len(lines) else body
    else:
        lines += ["", *body]
    path.write_text("\n".join(lines).rstrip("\n") + "\n", "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print one block of figures per population size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, nargs="+", default=[76_000])
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--repeats", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--model", type=Path, help="model directory (default: train one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, help="write a '## Screening' section here")
    parser.add_argument("--_child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child is not None:
        records_dir, model_dir = args._child
        print(json.dumps(measure(records_dir, model_dir, args.as_of, args.repeats)))
        return 0

    rows = []
    for n in args.families:
        path = population(n, args.seed)
        model_dir = args.model or OUT / f"model_{n}_seed{args.seed}"
        if args.model is None and not (model_dir / "model.json").exists():
            t0 = time.perf_counter()
            train_quick_model(path, model_dir)
            print(f"trained a quick model in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        repeats = args.repeats if n <= 200_000 else 1
        cmd = [sys.executable, "-m", "bench.bench_screen", "--_child", str(path), str(model_dir),
               "--as-of", args.as_of, "--repeats", str(repeats)]  # fmt: skip
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1]
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        r["repeats"] = repeats
        rows.append(r)
        print("\n".join(report(r, repeats)), flush=True)
    if args.results is not None:
        sizes = " ".join(str(n) for n in args.families)
        model = f" --model {args.model}" if args.model else ""
        command = f"python -m bench.bench_screen --families {sizes}{model} --results {args.results}"
        write_results(args.results, command, rows, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
