"""Benchmark the feature builders against the least work any builder must do.

For each population size it generates (once, cached under ``bench/out/``) a synthetic population
with ``risk.synth.generate`` and then, in a fresh child process so that peak memory belongs to
this measurement alone:

1. loads the records (``features.load_records``, validation included; timed apart),
2. times a bare ``events.groupby(["family_id", "event_type"]).size()``, the floor,
3. times ``features.build_features(records, as_of)``,
4. optionally times ``features.build_snapshots`` over several dates,

and reports wall times, families per second, the ratio build/groupby and peak resident set
sizes: the kernel's high-water mark ``VmHWM`` of the child, reset (``/proc/self/clear_refs``)
after loading and again before the snapshots, so each figure is the peak of that stage with the
loaded records included; loading's own peak is ``ru_maxrss`` at that point.

Usage::

    python -m bench.bench_features --families 76000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
DEFAULT_AS_OF = "2025-01-01"


def _status_gib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so that later stages are measured alone."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def population(n_families: int, seed: int = 0) -> Path:
    """Return the cached records directory of ``n_families`` families, generating it once."""
    path = OUT / f"records_{n_families}_seed{seed}"
    if (path / "events.parquet").exists():
        return path
    from risk.synth import generate

    started = time.perf_counter()
    records, _ = generate(n_families, seed=seed)
    records.to_parquet(path)
    print(
        f"generated {n_families:,} families in {time.perf_counter() - started:.0f} s -> {path}",
        file=sys.stderr,
    )
    return path


def measure(path: Path, as_of: str, repeats: int, snapshot_dates: Sequence[str]) -> dict:
    """Load, time the floor and the builders in this process; return the figures."""
    from features import build_features, build_snapshots, load_records

    started = time.perf_counter()
    records = load_records(path)
    load_s = time.perf_counter() - started
    events = records.events
    floor, build = [], []
    n_rows = 0
    rss_before = _status_gib("VmRSS")
    peak_after_load = _peak_gib()
    for _ in range(repeats):
        t0 = time.perf_counter()
        events.groupby(["family_id", "event_type"]).size()
        floor.append(time.perf_counter() - t0)
    reset = _reset_peak()
    for _ in range(repeats):
        t0 = time.perf_counter()
        frame = build_features(records, as_of)
        build.append(time.perf_counter() - t0)
        n_rows = len(frame)
        del frame
    result = {
        "families": records.n_families,
        "events": len(events),
        "population": n_rows,
        "load_s": load_s,
        "groupby_s": min(floor),
        "build_s": min(build),
        "rss_before_build_gib": rss_before,
        "peak_after_load_gib": peak_after_load,
        "build_peak_gib": _status_gib("VmHWM") if reset else float("nan"),
    }
    if snapshot_dates:
        reset = _reset_peak()
        t0 = time.perf_counter()
        snaps = build_snapshots(records, snapshot_dates)
        result["snapshots_s"] = time.perf_counter() - t0
        result["snapshot_rows"] = len(snaps)
        result["snapshot_dates"] = len(set(snapshot_dates))
        result["snapshots_peak_gib"] = _status_gib("VmHWM") if reset else float("nan")
        del snaps
    result["peak_rss_gib"] = _peak_gib()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print one block of figures per population size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, nargs="+", default=[76_000])
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--repeats", type=int, default=3, help="best of N (default 3)")
    parser.add_argument(
        "--snapshots",
        nargs="*",
        default=["2023-01-01", "2023-07-01", "2024-01-01", "2024-07-01"],
        help="as-of dates for the build_snapshots timing (none to skip)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--_child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child is not None:
        print(json.dumps(measure(args._child, args.as_of, args.repeats, args.snapshots)))
        return 0

    for n in args.families:
        path = population(n, args.seed)
        repeats = args.repeats if n <= 200_000 else 1
        cmd = [
            sys.executable,
            "-m",
            "bench.bench_features",
            "--_child",
            str(path),
            "--as-of",
            args.as_of,
            "--repeats",
            str(repeats),
            "--snapshots",
            *args.snapshots,
        ]
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1]
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"families {r['families']:,}  events {r['events']:,}  as of {args.as_of}")
        print(f"  population          {r['population']:,} families")
        print(f"  load + validate     {r['load_s']:.2f} s")
        print(f"  bare groupby.size   {r['groupby_s']:.2f} s  (best of {repeats})")
        print(
            f"  build_features      {r['build_s']:.2f} s  (best of {repeats}), "
            f"{r['families'] / r['build_s']:,.0f} families/s, "
            f"ratio to groupby {r['build_s'] / r['groupby_s']:.2f}x"
        )
        if "snapshots_s" in r:
            print(
                f"  build_snapshots     {r['snapshots_s']:.2f} s for {r['snapshot_dates']} dates "
                f"({r['snapshot_rows']:,} rows)"
            )
        print(
            f"  peak RSS            {r['build_peak_gib']:.2f} GiB during build_features, "
            f"{r.get('snapshots_peak_gib', float('nan')):.2f} GiB during build_snapshots "
            f"(VmHWM reset before each; the loaded records, {r['rss_before_build_gib']:.2f} GiB, "
            f"included); {r['peak_after_load_gib']:.2f} GiB while loading and validating"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
