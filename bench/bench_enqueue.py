"""Benchmark enqueueing a scoring run into the review store against a bare bulk insert.

For each backend (PostgreSQL by URL, SQLite in a temporary file) it creates a fresh store, then:

1. times ``ReviewQueue.enqueue`` of a run with ``--flags`` flags (each with a ~2 KB UTF-8 JSON
   payload of explanation, needs and services), best of ``--repeats``, each repeat a new run_id;
2. times a bare ``INSERT`` of the same rows (same columns and types) into a scratch table in one
   transaction through the same driver, the floor any enqueue must pay;
3. times the idempotent repeat of an enqueued run (nothing written);

and prints wall time, flags per second and the ratio enqueue/bare insert. With ``--results`` it
appends (or replaces) the ``## Enqueue`` section of ``bench/RESULTS.md``.

Usage::

    python -m bench.bench_enqueue --flags 20000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

DEFAULT_PG = os.environ.get(
    "RISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class BenchScreening:
    scores: pd.DataFrame
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def flag_payloads(self) -> dict[str, dict[str, Any]]:
        return self.payloads


def screening(n_flags: int, *, prefix: str, seed: int = 0) -> BenchScreening:
    """A run of 2 x ``n_flags`` scored families, the top ``n_flags`` flagged."""
    n = 2 * n_flags
    rng = np.random.default_rng(seed)
    score = np.sort(rng.uniform(0.01, 0.99, n))[::-1]
    fam = [f"{prefix}{i:07d}" for i in range(n)]
    district = [f"district_{i % 26:02d}" for i in range(n)]
    flagged = np.arange(n) < n_flags
    scores = pd.DataFrame(
        {
            "family_id": fam,
            "district": district,
            "score": score,
            "log_odds": np.log(score / (1 - score)),
            "tier": np.where(flagged, "priority", "universal"),
            "flagged": flagged,
            "rank_in_district": np.arange(n) // 26 + 1,
            "model_version": "family_distress@1",
            "as_of": pd.Timestamp("2025-06-30"),
            "advisory": "Advisory only: a person decides.",
        }
    )
    from risk import example_payload, validate_payload

    payloads = {}
    for f, d in zip(fam[:n_flags], district[:n_flags], strict=True):
        # A risk.FlagPayload of a realistic size: 8 contributions, 4 services.
        p = example_payload(f, district=d)
        p["contributions"] = [
            {"feature": f"school_absence_days_{k}", "value": float(k * 3),
             "contribution": round(float(0.31 - 0.03 * k), 4), "domain": "child_development",
             "unit": "days", "description_ru": "Дни пропусков школы за 90 дней",
             "description_en": "School days missed in the last 90 days"}
            for k in range(8)
        ]  # fmt: skip
        p["needs"] = ["material", "child_development"]
        p["services"] = [
            {"service_id": f"svc-{k}", "name_ru": "Социальное сопровождение семьи",
             "name_en": "Family social support", "organisation_ru": "КЦСОН",
             "organisation_en": "Social service centre", "category": "social",
             "domains": ["material"], "relevance": 1.0}
            for k in range(4)
        ]  # fmt: skip
        payloads[f] = dict(validate_payload(p))
    return BenchScreening(scores, payloads)


@contextmanager
def pg_store(base_url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def sqlite_store() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-enqueue-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'review.db'}"


def measure(url: str, n_flags: int, repeats: int) -> dict[str, float]:
    from risk.review import ReviewQueue
    from risk.review._models import flags as flags_table
    from risk.review._screening import prepare_run

    q = ReviewQueue(url)
    q.migrate()
    runs = [screening(n_flags, prefix=f"r{k}-", seed=k) for k in range(repeats)]
    enqueue_s = []
    for k, s in enumerate(runs):
        t = time.perf_counter()
        result = q.enqueue(s, f"bench-{k}")
        enqueue_s.append(time.perf_counter() - t)
        assert result.n_flags == n_flags and result.created
    t = time.perf_counter()
    assert not q.enqueue(runs[0], "bench-0").created
    repeat_s = time.perf_counter() - t

    # The floor: the same rows, same column types, one transaction, no run row, no audit.
    columns = [
        sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in flags_table.columns
        if c.name != "run_id"
    ]
    scratch = sa.Table("bench_scratch", sa.MetaData(), *columns)
    engine = q._engine
    with engine.begin() as conn:
        scratch.create(conn)
    bare_s = []
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()
    prepare_s = []
    for k, s in enumerate(runs):
        t = time.perf_counter()
        prepared = prepare_run(s, f"bare-{k}")
        prepare_s.append(time.perf_counter() - t)
        rows = [{**r, "status": "open", "version": 1, "created_at": now} for r in prepared.flags]
        t = time.perf_counter()
        with engine.begin() as conn:
            for start in range(0, len(rows), 2000):
                conn.execute(sa.insert(scratch), rows[start : start + 2000])
        bare_s.append(time.perf_counter() - t)
    q.close()
    return {
        "enqueue_s": min(enqueue_s),
        "bare_s": min(bare_s),
        "prepare_s": min(prepare_s),
        "repeat_s": repeat_s,
        "payload_bytes": float(
            np.mean([len(json.dumps(p, ensure_ascii=False)) for p in runs[0].payloads.values()])
        ),
    }


def write_results(path: Path, section: str) -> None:
    """Append the ``## Enqueue`` section, or replace it; other sections stay as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Enqueue\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on each backend; print figures and optionally record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--results", type=Path, help="append the figures to this Markdown file")
    args = parser.parse_args(argv)

    backends: list[tuple[str, Any]] = []
    if args.postgres:
        backends.append(("PostgreSQL", lambda: pg_store(args.postgres)))
    if not args.no_sqlite:
        backends.append(("SQLite (file, WAL)", sqlite_store))
    lines = []
    for name, store in backends:
        with store() as url:
            r = measure(url, args.flags, args.repeats)
        line = (
            f"| {name} | {args.flags:,} | {r['enqueue_s']:.2f} s | "
            f"{args.flags / r['enqueue_s']:,.0f} | {r['bare_s']:.2f} s | "
            f"{r['enqueue_s'] / r['bare_s']:.2f}x | {r['prepare_s']:.2f} s | "
            f"{r['repeat_s'] * 1000:.0f} ms |"
        )
        lines.append(line)
        print(
            f"{name}: enqueue {args.flags:,} flags in {r['enqueue_s']:.2f} s "
            f"({args.flags / r['enqueue_s']:,.0f} flags/s, best of {args.repeats}); "
            f"bare bulk insert {r['bare_s']:.2f} s; ratio {r['enqueue_s'] / r['bare_s']:.2f}x; "
            f"of which checking and JSON-encoding the run {r['prepare_s']:.2f} s; "
            f"idempotent repeat {r['repeat_s'] * 1000:.0f} ms; payload ~{r['payload_bytes']:.0f} B"
        )
    if args.results is not None:
        cmd = "python -m bench.bench_enqueue " + shlex.join(
            a if "://" not in a else "<url>" for a in (argv if argv is not None else sys.argv[1:])
        )
        section = (
            "## Enqueue\n\n"
            f"`{cmd.strip()}` (best of {args.repeats}; each run a new run_id in a fresh store; "
            "payload ~2 KB UTF-8 JSON per flag; prepare = checking the screening and JSON-encoding "
            "the payloads, inside enqueue; bare insert = same rows into a scratch table in one "
            "transaction, no run row, no audit). Target: 20,000 flags <= 5 s on PostgreSQL.\n\n"
            "| backend | flags | enqueue | flags/s | bare insert | ratio | of which prepare | "
            "idempotent repeat |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n\n"
        )
        write_results(args.results, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
