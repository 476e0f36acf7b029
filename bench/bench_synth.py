"""Benchmark of the synthetic generator: wall time and peak memory per population size.

Run: ``python -m bench.bench_synth --families 76000 1000000``. Each size runs in a fresh
subprocess so that peak memory is per size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench._util import append_section, machine


def _one(n: int, out: Path | None = None, seed: int = 0) -> dict[str, float]:
    """Generate ``n`` families and write them (to ``out``, else a temporary directory)."""
    import tempfile
    import time

    from bench._util import peak_rss_gib
    from risk.synth import generate, write_population

    start = time.perf_counter()
    records, truth = generate(n, seed=seed)
    gen = time.perf_counter() - start
    if out is not None:
        write_population(records, truth, out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            write_population(records, truth, Path(tmp) / "pop")
    total = time.perf_counter() - start
    return {
        "families": n,
        "events": len(records.events),
        "generate_s": gen,
        "total_s": total,
        "peak_gib": peak_rss_gib(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, nargs="+", default=[10_000, 76_000])
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one, args.out, args.seed)))
        return
    rows = []
    for n in args.families:
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_synth", "--one", str(n), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{n:>10,} families  {row['events']:>12,} events  generate {row['generate_s']:7.1f} s  "
            f"with writing {row['total_s']:7.1f} s  {n / row['total_s']:>9,.0f} families/s  "
            f"peak {row['peak_gib']:.2f} GiB",
            flush=True,
        )
    if args.results:
        cmd = "python -m bench.bench_synth --families " + " ".join(map(str, args.families))
        lines = [
            f"Command: `{cmd}`  ",
            f"Machine: {machine()}",
            "",
            "| families | events | generate (s) | with writing (s) | families/s | peak RSS (GiB) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['families']:,} | {r['events']:,} | {r['generate_s']:.1f} "
                f"| {r['total_s']:.1f} | "
                f"{r['families'] / r['total_s']:,.0f} | {r['peak_gib']:.2f} |"
            )
        lines.append("")
        lines.append("Targets: 76,000 families in ≤ 30 s, 1,000,000 in ≤ 6 minutes, peak ≤ 8 GiB.")
        append_section(args.results, "Synthetic population", "\n".join(lines))


if __name__ == "__main__":
    main()
