"""Benchmark training end to end: snapshots, fit, calibration, evaluation, SHAP, audit, MLflow.

For each population size it takes a synthetic population *with its truth* (generated once with
``risk.synth.generate`` + ``write_population`` and cached under ``bench/out/pop_<n>_seed<s>``,
not timed) and, in a fresh child process so that peak memory belongs to this measurement alone:

1. loads the records and the truth (timed apart, not part of the target),
2. times ``training._pipeline.train`` with the default model definition (labelled snapshots,
   LightGBM fit, Platt calibration, evaluation with bootstrap intervals, baselines, the model
   with the excluded features included for the card, SHAP sample, fairness audit),
3. times ``training._tracking.log_training_run`` into a temporary MLflow store (SQLite, its
   artifacts in the same temporary directory; model registered as ``challenger``),

and reports wall times (with the pipeline's own stage timings), families per second and the
peak resident set size of training (the kernel's ``VmHWM``, reset after loading, the loaded
records included). Target (issue 4): 76,000 families <= 3 minutes on 2 cores.

Usage::

    python -m bench.bench_train --families 10000 76000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_features import OUT, _peak_gib, _reset_peak, _status_gib

ROOT = Path(__file__).resolve().parents[1]


def population_dir(n_families: int, seed: int = 0) -> Path:
    """Where the population of ``n_families`` families (records, ``truth/``) is cached."""
    return OUT / f"pop_{n_families}_seed{seed}"


def has_population(path: Path) -> bool:
    """Whether ``path`` holds a complete population (the truth is written last)."""
    return (path / "truth" / "snapshots.parquet").exists()


def population(n_families: int, seed: int = 0) -> Path:
    """Return the cached population (records, ``truth/``, manifest), generating it once."""
    path = population_dir(n_families, seed)
    if has_population(path):
        return path
    from bench.bench_synth import _one

    row = _one(n_families, path, seed)
    print(f"generated {n_families:,} families in {row['total_s']:.0f} s -> {path}", file=sys.stderr)
    return path


def measure(path: Path, n_boot: int = 200) -> dict[str, Any]:
    """Load, train and log to a temporary MLflow store in this process; return the figures."""
    from features import load_records
    from training._config import load_config
    from training._data import load_truth
    from training._pipeline import train
    from training._tracking import log_training_run

    t0 = time.perf_counter()
    records = load_records(path)
    truth_snapshots, truth_families = load_truth(path)
    manifest_file = path / "manifest.json"
    manifest = json.loads(manifest_file.read_text("utf-8")) if manifest_file.exists() else None
    load_s = time.perf_counter() - t0
    peak_load = _peak_gib()
    reset = _reset_peak()
    cfg = load_config()
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        # MLflow puts a SQLite store's artifacts under the working directory: keep them in tmp.
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            t0 = time.perf_counter()
            run = train(
                records,
                cfg,
                truth_snapshots=truth_snapshots,
                truth_families=truth_families,
                n_boot=n_boot,
            )
            train_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            log_training_run(run, uri=f"sqlite:///{Path(tmp) / 'mlflow.db'}", manifest=manifest)
            log_s = time.perf_counter() - t0
        finally:
            os.chdir(cwd)
    return {
        "families": int(records.n_families),
        "events": len(records.events),
        "rows": dict(run.n_rows),
        "load_s": load_s,
        "train_s": train_s,
        "log_s": log_s,
        "total_s": train_s + log_s,
        "timings": dict(run.timings),
        "test_roc_auc": float(run.metrics.get("test_roc_auc", float("nan"))),
        "peak_load_gib": peak_load,
        "peak_gib": _status_gib("VmHWM") if reset else _peak_gib(),
    }


def report(r: dict[str, Any]) -> str:
    """One block of text for one size."""
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in r["timings"].items())
    rows = r["rows"]
    return (
        f"families {r['families']:,}  events {r['events']:,}  snapshot rows train "
        f"{rows.get('train', 0):,} / validation {rows.get('validation', 0):,} / test "
        f"{rows.get('test', 0):,}\n"
        f"  load records + truth  {r['load_s']:.1f} s (not part of the target)\n"
        f"  train                 {r['train_s']:.1f} s ({stages})\n"
        f"  MLflow logging        {r['log_s']:.1f} s\n"
        f"  end to end            {r['total_s']:.1f} s, {r['families'] / r['total_s']:,.0f} "
        f"families/s, test ROC AUC {r['test_roc_auc']:.3f}\n"
        f"  peak RSS              {r['peak_gib']:.2f} GiB (training, loaded records included); "
        f"{r['peak_load_gib']:.2f} GiB while loading"
    )


def run_child(path: Path, n_boot: int) -> dict[str, Any]:
    """Measure one population in a fresh child process; return its figures."""
    cmd = [sys.executable, "-m", "bench.bench_train", "--_child", str(path)]
    cmd += ["--n-boot", str(n_boot)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print one block of figures per population size."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--families", type=int, nargs="+", default=[76_000])
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--_child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child is not None:
        print(json.dumps(measure(args._child, args.n_boot)))
        return 0
    for n in args.families:
        print(report(run_child(population(n, args.seed), args.n_boot)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
