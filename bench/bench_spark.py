"""Benchmark the Spark engine against the pandas engine in the same process.

For each population size (generated once and cached under ``bench/out/`` by
``bench.bench_features.population``) it times:

1. Spark's start-up (``spark_session``), reported apart and excluded from the ratios;
2. the pandas engine: ``load_records`` (read and validate), then ``Screener.screen``
   (features, scores, flags, explanations of the flagged; ``build_features`` alone is timed
   apart);
3. the Spark engine on ``--master`` (default ``local[2]``): ``read_records`` and the
   cross-family id checks, ``spark_features`` (with per-partition validation) run to a no-op
   sink, and ``spark_screen`` (features, MLflow UDF scores, window flags, flagged collected and
   explained), checking that its flags equal the pandas engine's.

The headline ratio compares the engines as ``risk score`` runs them, from the Parquet records
to explained flags; the ratio of the screens alone (records already read on the pandas side)
is printed beside it.

Usage::

    python -m bench.bench_spark --families 76000 [--million] --model bench/out/model_76000_seed0
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench._util import append_section, machine
from bench.bench_features import population

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "bench" / "out" / "model_76000_seed0"


def _timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(spark, path: Path, model: str, as_of: str, partitions: int) -> dict:  # type: ignore[no-untyped-def]
    """Time both engines on one population; return the figures."""
    from features import build_features, load_records
    from risk import Screener
    from risk.spark import check_unique_ids, read_records, spark_features, spark_screen

    screener = Screener.load(model)
    records, load_s = _timed(lambda: load_records(path))
    feats, pandas_features_s = _timed(lambda: build_features(records, as_of))
    screening, pandas_screen_s = _timed(lambda: screener.screen(records, as_of))
    n_pop = len(feats)
    del feats

    srecs, read_s = _timed(lambda: read_records(spark, path, partitions=partitions))
    _, ids_s = _timed(lambda: check_unique_ids(srecs))
    frame = spark_features(srecs, as_of, lookback_days=screener.model.lookback_days)
    _, spark_features_s = _timed(lambda: frame.write.format("noop").mode("overwrite").save())
    run, spark_screen_s = _timed(lambda: spark_screen(spark, srecs, screener, model, as_of))
    same = run.screening.flagged_ids == screening.flagged_ids
    run.scores.unpersist()
    return {
        "families": records.n_families,
        "events": len(records.events),
        "population": n_pop,
        "flags": len(screening.flagged_ids),
        "same_flags": same,
        "load_s": load_s,
        "pandas_features_s": pandas_features_s,
        "pandas_screen_s": pandas_screen_s,
        "read_s": read_s,
        "ids_s": ids_s,
        "spark_features_s": spark_features_s,
        "spark_screen_s": spark_screen_s,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and append a ``## Spark`` section to the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, nargs="+", default=[76_000])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 families")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model directory or URI")
    parser.add_argument("--as-of", default="2025-01-01")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=None, help="partition keys")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--note", default="", help="a note to record with the figures")
    args = parser.parse_args(argv)
    sizes = list(args.families) + ([1_000_000] if args.million else [])

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    t0 = time.perf_counter()
    from risk.spark import default_partitions, spark_session

    spark = spark_session(args.master, shuffle_partitions=8, app_name="bench-spark")
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()
    startup_s = time.perf_counter() - t0
    partitions = args.partitions or default_partitions(spark)
    print(f"spark start-up {startup_s:.1f} s ({args.master}, {partitions} partition keys)")

    rows = []
    for n in sizes:
        r = measure(spark, population(n), args.model, args.as_of, partitions)
        pandas_total = r["load_s"] + r["pandas_screen_s"]
        spark_total = r["read_s"] + r["ids_s"] + r["spark_screen_s"]
        ratio = spark_total / pandas_total
        strict = r["spark_screen_s"] / r["pandas_screen_s"]
        fratio = r["spark_features_s"] / r["pandas_features_s"]
        per_core = r["families"] / spark_total / 2
        print(
            f"{n:,} families: pandas engine {pandas_total:.1f} s (load + validate "
            f"{r['load_s']:.1f}, screen {r['pandas_screen_s']:.1f}), spark engine "
            f"{spark_total:.1f} s (read + id checks {r['read_s'] + r['ids_s']:.1f}, screen "
            f"{r['spark_screen_s']:.1f}): {ratio:.2f}x; screens alone {strict:.2f}x; features "
            f"{r['pandas_features_s']:.1f} vs {r['spark_features_s']:.1f} s ({fratio:.2f}x); "
            f"flags equal: {r['same_flags']}"
        )
        rows.append(
            f"| {r['families']:,} | {r['events']:,} | {r['population']:,} | {r['load_s']:.1f} s "
            f"| {r['pandas_screen_s']:.1f} s | {pandas_total:.1f} s "
            f"| {r['read_s'] + r['ids_s']:.1f} s | {r['spark_screen_s']:.1f} s "
            f"| {spark_total:.1f} s | **{ratio:.2f}×** | {strict:.2f}× "
            f"| {r['pandas_features_s']:.1f} s | {r['spark_features_s']:.1f} s | {fratio:.2f}× "
            f"| {per_core:,.0f} | {r['flags']} ({'equal' if r['same_flags'] else 'DIFFER'}) |"
        )
    spark.stop()
    command = "python -m bench.bench_spark " + " ".join(argv or sys.argv[1:])
    body = (
        f"`{command.strip()}` ({machine()}; Spark {args.master}, {partitions} partition keys, "
        f"8 shuffle partitions; model `{args.model}`; as of {args.as_of}). Spark start-up "
        f"(JVM and session, excluded from the ratios): **{startup_s:.1f} s**. Each engine is "
        "timed from the Parquet records to explained flags, as `risk score` runs it: the "
        "*pandas engine* is `load_records` (read and validate) then `Screener.screen` "
        "(features, scores, flags, explanations of the flagged); the *spark engine* is "
        "`read_records` and the cross-family id checks, then `spark_screen` (per-partition "
        "validation and features, MLflow UDF scores, window flags, the flagged families "
        "collected and explained). *screens alone* compares `spark_screen` with "
        "`Screener.screen` on records already in memory (stricter: Spark's part still reads and "
        "validates). *spark features* runs `spark_features` to a no-op sink. Per-core "
        "throughput = families / spark engine / 2 cores. Target: the spark engine within 4× of "
        "the pandas engine at 1,000,000 families.\n\n"
        "| families | events | population | pandas load + validate | pandas screen "
        "| **pandas engine** | spark read + id checks | spark screen | **spark engine** "
        "| **ratio** | screens alone | pandas features | spark features | features ratio "
        "| families/s/core (spark) | flags |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + "\n"
    )
    if args.note:
        body += f"\nNotes: {args.note}\n"
    append_section(args.results, "Spark", body)
    print(f"appended ## Spark to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
