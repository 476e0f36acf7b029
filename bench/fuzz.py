"""Run the records fuzz property of ``tests/reliability`` with many examples.

The same property as ``tests/reliability/test_fuzz_records.py`` (200 examples in CI): corrupted
records make every records-reading command work or stop cleanly with ``RecordsError``, with no
partial output. Prints the count of examples tried, how many stopped cleanly at each rule, and
the time; with ``--results`` replaces the ``## Fuzz`` section of ``bench/RESULTS.md``.

Usage::

    python -m bench.fuzz --examples 10000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench._util import append_section, machine

TESTS = Path(__file__).resolve().parent.parent / "tests" / "reliability"


def run(n_examples: int, workdir: Path) -> tuple[int, Counter[str], float]:
    """Try ``n_examples`` fuzz cases; return the count tried, outcomes per rule and seconds."""
    sys.path.insert(0, str(TESTS))
    from hypothesis import HealthCheck, Phase, given, settings
    from records_fuzz import Case, Checker, cases

    checker = Checker(workdir)
    tally: Counter[str] = Counter()
    tried = 0

    @settings(
        max_examples=n_examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def prop(case: Case) -> None:
        nonlocal tried
        tried += 1
        outcomes = checker.check(case)
        for o in outcomes:
            tally[f"{o.command}: {o.rule or 'ok'}"] += 1
        if tried % 500 == 0:
            print(f"  {tried:,} examples", file=sys.stderr, flush=True)

    start = time.perf_counter()
    prop()
    return tried, tally, time.perf_counter() - start


def format_tally(tried: int, tally: Counter[str], seconds: float) -> str:
    """Render the outcome counts as a Markdown table.

    Examples
    --------
    >>> print(format_tally(2, Counter({"score: ok": 1, "score: duplicate_id": 1}), 1.0))
    2 examples in 1.0 s (three commands each); every one worked or stopped cleanly.
    <BLANKLINE>
    | command | outcome | examples |
    |---|---|---:|
    | score | duplicate_id | 1 |
    | score | ok | 1 |
    """
    lines = [
        f"{tried:,} examples in {seconds:.1f} s (three commands each); every one worked or "
        "stopped cleanly.",
        "",
        "| command | outcome | examples |",
        "|---|---|---:|",
    ]
    for key in sorted(tally):
        command, outcome = key.split(": ")
        lines.append(f"| {command} | {outcome} | {tally[key]:,} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        tried, tally, seconds = run(args.examples, Path(tmp))
    body = format_tally(tried, tally, seconds)
    print(body)
    if args.results is not None:
        text = (
            f"`python -m bench.fuzz --examples {args.examples}` on {machine()}: the property of "
            "`tests/reliability/test_fuzz_records.py` (corrupted 60-family populations through "
            "`load_records`, `risk features` and `risk score`; `validate` stands for the "
            "validation `risk train` starts with).\n\n" + body
        )
        append_section(args.results, "Fuzz", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
