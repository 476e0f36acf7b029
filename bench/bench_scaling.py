"""Why per-family cost grows from 76,000 to 1,000,000 families: random access past the cache.

The suite (``bench/run.py --full``) finds load, features, screening and scoring growing faster
than the number of families between 76,000 and 1,000,000. Their common inner step is a random
access into a per-family table: Arrow's hash lookup of each record's ``family_id`` among the
families (``index_in``, in validation and in ``features._encode``), then scatter-adds into
per-family arrays (``np.bincount`` over family codes, in the feature builders). This script
times those two steps alone, per record row, at each size, on the records as they are written
(sorted by date, so consecutive rows belong to unrelated families), and the same scatter-add
with the rows in family order (sequential access) for comparison.

Usage::

    python -m bench.bench_scaling [--families 76000 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench._util import append_section, machine
from bench.bench_features import population

ROOT = Path(__file__).resolve().parents[1]


def _best(fn: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(path: Path) -> dict[str, float]:
    """Time the lookup and the scatter-add per event row for one population."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    events = pq.read_table(path / "events.parquet", columns=["family_id"]).column("family_id")
    families = pq.read_table(path / "families.parquet", columns=["family_id"]).column("family_id")
    ids = families.combine_chunks()
    lookup_s = _best(lambda: pc.index_in(events, value_set=ids))
    codes = np.asarray(pc.index_in(events, value_set=ids).to_numpy(), dtype=np.int64)
    weights = np.ones(len(codes))
    scatter_s = _best(lambda: np.bincount(codes, weights, minlength=len(ids)))
    ordered = np.sort(codes)
    sequential_s = _best(lambda: np.bincount(ordered, weights, minlength=len(ids)))
    n = len(codes)
    return {
        "families": len(ids),
        "events": n,
        # index_in builds a table of the family ids (about 20 bytes each, plus the strings)
        "table_mib": (ids.nbytes + 16 * len(ids)) / 2**20,
        "lookup_ns": lookup_s / n * 1e9,
        "scatter_ns": scatter_s / n * 1e9,
        "sequential_ns": sequential_s / n * 1e9,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each size and write a ``## Scaling`` section into the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, nargs="+", default=[76_000, 1_000_000])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    rows = []
    for n in args.families:
        r = measure(population(n))
        print(
            f"{n:,} families, {r['events']:,} events: family lookup {r['lookup_ns']:.0f} ns/event "
            f"(table ~{r['table_mib']:.0f} MiB), scatter-add {r['scatter_ns']:.1f} ns/event, "
            f"in family order {r['sequential_ns']:.1f} ns/event"
        )
        rows.append(
            f"| {r['families']:,} | {r['events']:,} | ~{r['table_mib']:.0f} MiB "
            f"| {r['lookup_ns']:.0f} ns | {r['scatter_ns']:.1f} ns | {r['sequential_ns']:.1f} ns |"
        )
    command = "python -m bench.bench_scaling " + " ".join(argv or sys.argv[1:])
    body = (
        f"`{command.strip()}` ({machine()}). Per event row, best of 3: Arrow's hash lookup of "
        "each event's `family_id` among the families (`pyarrow.compute.index_in`, as validation "
        "and `features._encode` do), and a scatter-add into a per-family array "
        "(`np.bincount` over the family codes, as the feature builders do), with the events in "
        "their written order (by date) and in family order.\n\n"
        "| families | events | family table | lookup / event | scatter-add / event "
        "| scatter-add, family order |\n|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )
    append_section(args.results, "Scaling", body)
    print(f"appended ## Scaling to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
