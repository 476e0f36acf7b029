"""Benchmark ``features.load_records`` (validation included) against a bare Parquet read.

The floor is ``pyarrow.parquet.read_table`` of the four tables, nothing else: any loader reads
at least that. Each measurement runs in a fresh child process, floor and load alternating, so
that the page cache and the machine's load are shared fairly and peak memory (``ru_maxrss``)
belongs to that measurement alone. The median of the repeats is reported, with the machine's
load averages before and after (other work on a shared machine slows both alike; the ratio is
the figure that carries over).

Usage::

    python -m bench.bench_load --path /tmp/pop1m --repeats 3 --results bench/RESULTS.md

``--families N`` instead of ``--path`` generates (once, cached under ``bench/out/``) a synthetic
population of ``N`` families.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._util import append_section, machine, peak_rss_gib

TABLES = ("families", "members", "events", "outcomes")
TITLE = "load_records at 1,000,000 families"


def _floor(path: Path) -> dict[str, float]:
    import pyarrow.parquet as pq

    started, cpu = time.perf_counter(), time.process_time()
    rows = {name: pq.read_table(path / f"{name}.parquet").num_rows for name in TABLES}
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_gib": peak_rss_gib(), **rows}


def _load(path: Path) -> dict[str, float]:
    from features import load_records

    started, cpu = time.perf_counter(), time.process_time()
    records = load_records(path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = {name: len(records.table(name)) for name in TABLES}
    return {"seconds": seconds, "cpu": cpu, "peak_gib": peak_rss_gib(), **rows}


def _child(what: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_load", "--one", what, "--path", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print (and optionally record) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, help="records directory to load")
    parser.add_argument("--families", type=int, help="generate (once) this many families")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--one", choices=("floor", "load"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        fn = _floor if args.one == "floor" else _load
        print(json.dumps(fn(args.path)))
        return
    if args.path is None:
        if args.families is None:
            parser.error("give --path or --families")
        from bench.bench_features import population

        args.path = population(args.families)
    before = _loadavg()
    floors, loads = [], []
    for _ in range(args.repeats):
        floors.append(_child("floor", args.path))
        loads.append(_child("load", args.path))
        print(
            f"floor {floors[-1]['seconds']:.1f} s (CPU {floors[-1]['cpu']:.1f} s), "
            f"load+validate {loads[-1]['seconds']:.1f} s (CPU {loads[-1]['cpu']:.1f} s)",
            file=sys.stderr,
        )
    after = _loadavg()
    floor = statistics.median(r["seconds"] for r in floors)
    load = statistics.median(r["seconds"] for r in loads)
    floor_cpu = statistics.median(r["cpu"] for r in floors)
    load_cpu = statistics.median(r["cpu"] for r in loads)
    rows = {name: int(loads[0][name]) for name in TABLES}
    peak_floor = max(r["peak_gib"] for r in floors)
    peak_load = max(r["peak_gib"] for r in loads)
    print(f"families              {rows['families']:,}")
    print(f"rows                  {sum(rows.values()):,} ({rows['events']:,} events)")
    print(
        f"parquet-read floor    {floor:.1f} s, CPU {floor_cpu:.1f} s, peak RSS {peak_floor:.2f} GiB"
    )
    print(f"load+validate         {load:.1f} s, CPU {load_cpu:.1f} s, peak RSS {peak_load:.2f} GiB")
    print(f"ratio                 {load / floor:.2f}x (CPU {load_cpu / floor_cpu:.2f}x)")
    print(f"load average          {before} before, {after} after ({machine()})")
    if args.results:
        command = "python -m bench.bench_load " + " ".join(
            a for a in (argv if argv is not None else sys.argv[1:])
        )
        body = "\n".join(
            [
                "",
                f"`{command}` (median of {args.repeats}, floor and load alternating, each in a "
                "fresh process). *floor* = `pyarrow.parquet.read_table` of the four tables; "
                "*load+validate* = `features.load_records(path)`, every rule of the schema "
                "checked. Wall and CPU (user + system) seconds; on a shared machine the CPU time "
                "and the ratio carry over, the wall time does not. Target: 1,000,000 families "
                "<= 15 s.",
                "",
                "| families | rows | events | floor | load+validate | ratio | floor CPU "
                "| load+validate CPU | CPU ratio | peak RSS floor | peak RSS load "
                "| load average (1/5/15 min) |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
                f"| {rows['families']:,} | {sum(rows.values()):,} | {rows['events']:,} "
                f"| {floor:.1f} s | {load:.1f} s | {load / floor:.2f}x | {floor_cpu:.1f} s "
                f"| {load_cpu:.1f} s | {load_cpu / floor_cpu:.2f}x | {peak_floor:.2f} GiB "
                f"| {peak_load:.2f} GiB | {before} before, {after} after |",
                "",
                f"Machine: {machine()}; every run: "
                + "; ".join(
                    f"{f['seconds']:.1f} / {ld['seconds']:.1f} s"
                    for f, ld in zip(floors, loads, strict=True)
                )
                + " (floor / load+validate).",
            ]
        )
        append_section(args.results, TITLE, body)


if __name__ == "__main__":
    main()
