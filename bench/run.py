"""The benchmark suite: every stage at 10,000 and 76,000 families (1,000,000 with ``--full``).

Stages, each per size in a fresh child process so that its peak memory is its own:

- **generation**: ``risk.synth.generate`` + ``write_population`` into ``bench/out/pop_<n>_seed<s>``
  (the population every later stage reads; ``--reuse`` keeps an existing one, untimed);
- **load**: ``features.load_records`` with validation (no target; every later stage pays it);
- **features**: ``build_features`` against a bare ``events.groupby([family, type]).size()``;
- **training**: ``training._pipeline.train`` + MLflow logging to a temporary store (not at
  1,000,000: the target is defined at 76,000);
- **screening**: ``Screener.screen`` (features, score, tiers, explanations of flags); within it
  **scoring** (``RiskModel.log_odds`` against LightGBM's raw ``booster.predict`` of the same
  matrix) and **explanations** of every flagged family (against ``shap.TreeExplainer``);
- **enqueue**: ``ReviewQueue.enqueue`` on PostgreSQL and SQLite against a bare bulk insert of
  the same rows (flags in proportion to the population: 20,000 at 76,000 families);
- **review**: the review app's queue page at 10,000 open items, median and p95 (once, not per
  size); ``--load`` adds the 60-second load test of concurrent specialists.

A line is printed per stage as it completes; the ``## Suite`` section of ``bench/RESULTS.md`` is
replaced with the table, the stages over target, a scaling paragraph, the command and the
machine. Other sections of the file are left as they are.

Usage::

    python -m bench.run [--sizes 10000 76000] [--full] [--load] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench._util import append_section, machine, peak_rss_gib
from bench.bench_train import has_population, population_dir

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
FULL = 1_000_000
REGION = 76_000
STAGES = ("generation", "features", "training", "screening", "enqueue", "review")
#: Rows of the table in this order (a failed stage keeps the name of its group in STAGES).
ROW_ORDER = (
    "generation", "load + validate records", "features", "training", "screening", "scoring",
    "explanations of flags", "enqueue", "enqueue (PostgreSQL)", "enqueue (SQLite)", "review",
    "review queue page",
)  # fmt: skip
DEFAULT_PG = os.environ.get(
    "RISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AS_OF = "2025-01-01"
#: Flags per family enqueued: the issue's 20,000 flags for a 76,000-family region.
FLAG_RATE = 20_000 / REGION
GIB = 8.0
SINGULAR = {"families": "family", "rows": "row", "flags": "flag", "items": "item"}
#: Per-unit cost may rise this much from one size to the next before it counts as worse than
#: linear (timings on a shared machine move by more than this from run to run).
SCALING_TOLERANCE = 0.15


@dataclass(frozen=True)
class Check:
    """One target: ``value`` must be at most ``limit``."""

    label: str
    value: float
    limit: float
    unit: str

    @property
    def ok(self) -> bool:
        return self.value <= self.limit

    def miss(self) -> str:
        over = self.value / self.limit - 1
        return f"{self.value:.2f}{self.unit} against {self.label} (+{over:.0%})"


@dataclass(frozen=True)
class Row:
    """One stage at one size."""

    stage: str
    size: int
    seconds: float | None = None
    units: int = 0  # what throughput and scaling count (families, rows, flags)
    unit: str = "families"
    peak_gib: float | None = None
    ratio: str = ""
    checks: tuple[Check, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def throughput(self) -> str:
        if self.seconds is None or not self.units or self.seconds <= 0:
            return "—"
        return f"{self.units / self.seconds:,.0f} {self.unit}/s"


def _checks(specs: Sequence[tuple[bool, str, float, float, str]]) -> tuple[Check, ...]:
    return tuple(Check(label, value, limit, unit) for on, label, value, limit, unit in specs if on)


# --------------------------------------------------------------------------- child processes


def _child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, "-m", module, *args]
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise StageError(f"{module} exited {done.returncode}: {tail[-1] if tail else ''}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class StageError(RuntimeError):
    """A stage's child process failed; the message holds the last line of its stderr."""


def _own_peak_gib() -> float:
    """This process's peak RSS since exec (``VmHWM``; ``ru_maxrss`` would include the parent's)."""
    from bench.bench_features import _status_gib

    peak = _status_gib("VmHWM")
    return peak if peak == peak else peak_rss_gib()  # NaN where /proc is missing


def _enqueue_child(backend: str, url: str, n_flags: int, repeats: int) -> dict[str, Any]:
    from bench.bench_enqueue import measure, pg_store, sqlite_store

    store = pg_store(url) if backend == "postgresql" else sqlite_store()
    with store as target:
        result: dict[str, Any] = dict(measure(target, n_flags, repeats))
    result["peak_gib"] = _own_peak_gib()
    return result


def _review_child(items: int, repeats: int, load_seconds: float) -> dict[str, Any]:
    from bench.bench_review import load_test, page_latency

    result: dict[str, Any] = dict(page_latency(items, repeats))
    if load_seconds > 0:
        load = load_test(20, load_seconds)
        result["load"] = {k: v for k, v in load.items() if k != "refusals"}
    result["peak_gib"] = _own_peak_gib()
    return result


# --------------------------------------------------------------------------- stages


def stage_generation(n: int, path: Path, seed: int, reuse: bool) -> list[Row]:
    """Generate and write the population of ``n`` families to ``path`` (or reuse it)."""
    if reuse and has_population(path):
        return [Row("generation", n, note=f"reused {path.relative_to(ROOT)} (not timed)")]
    r = _child("bench.bench_synth", "--one", str(n), "--out", str(path), "--seed", str(seed))
    checks = _checks(
        [
            (n == REGION, "≤ 30 s", r["total_s"], 30.0, " s"),
            (n == FULL, "≤ 6 min", r["total_s"], 360.0, " s"),
            (True, "≤ 8 GiB", r["peak_gib"], GIB, " GiB"),
        ]
    )
    note = f"{r['events']:,} events; generate {r['generate_s']:.1f} s + writing Parquet"
    return [Row("generation", n, r["total_s"], n, peak_gib=r["peak_gib"], checks=checks, note=note)]


def stage_features(n: int, path: Path, repeats: int) -> list[Row]:
    """Load (timed apart) and build features against the bare groupby."""
    r = _child(
        "bench.bench_features", "--_child", str(path), "--as-of", AS_OF,
        "--repeats", str(repeats), "--snapshots",
    )  # fmt: skip
    ratio = r["build_s"] / r["groupby_s"]
    load = Row(
        "load + validate records",
        n,
        r["load_s"],
        n,
        peak_gib=r["peak_after_load_gib"],
        note="paid once before any stage below; no target",
    )
    checks = _checks(
        [
            (n == REGION, "≤ 5 s", r["build_s"], 5.0, " s"),
            (n == FULL, "≤ 90 s", r["build_s"], 90.0, " s"),
            (True, "≤ 5× groupby", ratio, 5.0, "×"),
            (True, "≤ 8 GiB", r["build_peak_gib"], GIB, " GiB"),
        ]
    )
    build = Row(
        "features",
        n,
        r["build_s"],
        n,
        peak_gib=r["build_peak_gib"],
        ratio=f"{ratio:.2f}× bare groupby ({r['groupby_s']:.2f} s)",
        checks=checks,
        note=f"population {r['population']:,}; best of {repeats}",
    )
    return [load, build]


def stage_training(n: int, path: Path, n_boot: int) -> list[Row]:
    """Train end to end with MLflow logging (not at 1,000,000 families)."""
    if n > REGION:
        return [
            Row(
                "training",
                n,
                note="skipped: the target (≤ 3 min on 2 cores) is defined at 76,000 families",
            )
        ]
    r = _child("bench.bench_train", "--_child", str(path), "--n-boot", str(n_boot))
    checks = _checks([(n == REGION, "≤ 3 min", r["total_s"], 180.0, " s")])
    parts = ", ".join(f"{k} {v:.0f}" for k, v in r["timings"].items() if v >= 0.5)
    note = f"MLflow {r['log_s']:.0f} s; train: {parts} s; {sum(r['rows'].values()):,} rows"
    return [Row("training", n, r["total_s"], n, peak_gib=r["peak_gib"], checks=checks, note=note)]


def quick_model(path: Path, seed: int, retrain: bool) -> Path:
    """The screening model (one for every size, so that sizes compare), trained once."""
    from bench.bench_features import OUT

    model_dir = OUT / f"suite_model_seed{seed}"
    if retrain or not (model_dir / "model.json").exists():
        # In a child: a child's ru_maxrss starts at its parent's peak (kept across fork and
        # exec), so the orchestrator must stay small for later stages' peaks to be their own.
        code = "import sys; from pathlib import Path; from bench.bench_screen import "
        code += "train_quick_model as t; t(Path(sys.argv[1]), Path(sys.argv[2]))"
        cmd = [sys.executable, "-c", code, str(path), str(model_dir)]
        subprocess.run(cmd, check=True, cwd=ROOT, env=dict(os.environ, PYTHONHASHSEED="0"))
    return model_dir


def stage_screening(n: int, path: Path, model_dir: Path, repeats: int) -> list[Row]:
    """Screen; score against booster.predict; explain flags against shap.TreeExplainer."""
    r = _child(
        "bench.bench_screen", "--_child", str(path), str(model_dir), "--as-of", AS_OF,
        "--repeats", str(repeats),
    )  # fmt: skip
    peak = r.get("screen_hwm_gib", r["peak_rss_screen_gib"])
    pop = int(r["population"])
    screen = Row(
        "screening",
        n,
        r["screen_s"],
        n,
        peak_gib=peak,
        checks=_checks(
            [
                (n == REGION, "≤ 10 s", r["screen_s"], 10.0, " s"),
                (n == FULL, "≤ 3 min", r["screen_s"], 180.0, " s"),
                (True, "≤ 8 GiB", peak, GIB, " GiB"),
            ]
        ),
        note=f"population {pop:,}, {r['flagged']} flags; features {r['features_s']:.2f} s; "
        f"best of {repeats}",
    )
    score_ratio = r["log_odds_s"] / r["predict_s"]
    scoring = Row(
        "scoring",
        n,
        r["log_odds_s"],
        pop,
        unit="rows",
        ratio=f"{score_ratio:.2f}× booster.predict ({r['predict_s']:.3f} s)",
        checks=_checks([(True, "≤ 1.5× predict", score_ratio, 1.5, "×")]),
        note=f"{r['features']} features, {r['trees']} trees",
    )
    explain = Row(
        "explanations of flags",
        n,
        r["explain_s"],
        int(r["flagged"]),
        unit="flags",
        ratio=f"{r['explain_s'] / r['shap_s']:.2f}× shap.TreeExplainer ({r['shap_s']:.3f} s)",
        checks=_checks([(True, "≤ 5 s", r["explain_s"], 5.0, " s")]),
        note=f"{r['flagged']} flagged; review payloads {r['payloads_s']:.2f} s (no target)",
    )
    return [screen, scoring, explain]


def stage_enqueue(n: int, postgres: str, repeats: int) -> list[Row]:
    """Enqueue flags in proportion to ``n`` on PostgreSQL and SQLite against a bare insert."""
    n_flags = max(1, round(n * FLAG_RATE))
    backends = [("postgresql", "PostgreSQL")] if postgres else []
    backends.append(("sqlite", "SQLite"))
    rows = []
    for key, name in backends:
        args = ["--_enqueue", key, "--postgres", postgres, "--flags", str(n_flags)]
        r = _child("bench.run", *args, "--repeats", str(repeats))
        ratio = r["enqueue_s"] / r["bare_s"]
        checks = _checks(
            [(key == "postgresql" and n_flags == 20_000, "≤ 5 s", r["enqueue_s"], 5.0, " s")]
        )
        rows.append(
            Row(
                f"enqueue ({name})",
                n,
                r["enqueue_s"],
                n_flags,
                unit="flags",
                peak_gib=r["peak_gib"],
                ratio=f"{ratio:.2f}× bare insert ({r['bare_s']:.2f} s)",
                checks=checks,
                note=f"{n_flags:,} flags of ~{r['payload_bytes'] / 1000:.0f} KB; best of {repeats}",
            )
        )
    return rows


def stage_review(items: int, load_seconds: float) -> list[Row]:
    """The queue page at ``items`` open items (median and p95), and optionally the load test."""
    args = ["--_review", str(items), "--load-seconds", str(load_seconds)]
    r = _child("bench.run", *args)
    note = (
        f"queue page median {r['page_median_ms']:.0f} ms, p95 {r['page_p95_ms']:.0f} ms; "
        f"`list_queue` over HTTP median {r['list_median_ms']:.0f} ms, "
        f"p95 {r['list_p95_ms']:.0f} ms"
    )
    if "list_page_median_ms" in r:
        note += (
            f"; `list_queue` page of 100 over HTTP median {r['list_page_median_ms']:.0f} ms, "
            f"p95 {r['list_page_p95_ms']:.0f} ms"
        )
    if "load" in r:
        ld = r["load"]
        note += (
            f"; load test: {ld['decisions']} decisions by 20 specialists in {ld['wall_s']:.0f} s, "
            f"cycle median {ld['cycle_median_ms']:.0f} ms, lost {ld['lost']}, "
            f"decided twice {ld['duplicated_items']}"
        )
    return [
        Row(
            "review queue page",
            int(r["items"]),
            r["page_median_ms"] / 1000,
            unit="items",
            peak_gib=r["peak_gib"],
            note=note,
        )
    ]


# --------------------------------------------------------------------------- report


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def line(row: Row, elapsed: float) -> str:
    """The line printed as a stage completes."""
    checks = " ".join(f"{c.label} {'✓' if c.ok else '✗'}" for c in row.checks)
    peak = f"peak {row.peak_gib:.2f} GiB" if row.peak_gib is not None else ""
    parts = [_fmt_s(row.seconds), row.throughput(), peak, row.ratio, checks, row.note]
    body = "  ".join(p for p in parts if p and p != "—")
    return f"[{elapsed:7.1f} s] {row.stage:<24} {row.size:>10,}  {body}"


def table(rows: Sequence[Row]) -> list[str]:
    """The Markdown table: stage × size."""
    out = [
        "| stage | size | wall | throughput | peak RSS | reference ratio | target | met | notes |",
        "|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for r in rows:
        size = f"{r.size:,} items" if r.unit == "items" else f"{r.size:,}"
        peak = f"{r.peak_gib:.2f} GiB" if r.peak_gib is not None else "—"
        target = "; ".join(c.label for c in r.checks) or "—"
        if not r.checks:
            met = "—"
        elif r.ok:
            met = "✓"
        else:
            met = "✗ " + "; ".join(c.miss() for c in r.checks if not c.ok)
        note = r.note.replace("|", "\\|")
        out.append(
            f"| {r.stage} | {size} | {_fmt_s(r.seconds)} | {r.throughput()} | {peak} | "
            f"{r.ratio or '—'} | {target} | {met} | {note} |"
        )
    return out


def scaling(rows: Sequence[Row]) -> list[str]:
    """Per-unit time and peak memory from size to size; where growth is worse than linear."""
    by_stage: dict[str, list[Row]] = {}
    for r in rows:
        if r.seconds is not None and r.units and r.unit != "items":
            by_stage.setdefault(r.stage, []).append(r)
    sentences, worse = [], []
    for stage, rs in by_stage.items():
        rs = sorted(rs, key=lambda r: r.size)
        if len(rs) < 2:
            continue
        one = SINGULAR.get(rs[0].unit, rs[0].unit)
        per_time = " → ".join(f"{1e6 * (r.seconds or 0) / r.units:,.1f}" for r in rs)
        text = f"**{stage}**: µs per {one} {per_time}"
        if all(r.peak_gib is not None for r in rs):
            per_mem = " → ".join(f"{(r.peak_gib or 0) * 2**20 / r.units:,.1f}" for r in rs)
            text += f"; peak KiB per {one} {per_mem}"
        text += f" at {' → '.join(f'{r.size:,}' for r in rs)} families"
        if all(b.units < 1.5 * a.units for a, b in zip(rs, rs[1:], strict=False)):
            text += " (about the same work at every size: not judged)"
        sentences.append(text + ".")
        for a, b in zip(rs, rs[1:], strict=False):
            if b.units < 1.5 * a.units:
                continue  # about the same work at both sizes (flags are capped by capacity)
            grow = b.units / a.units
            t = (b.seconds or 0) / (a.seconds or 1)
            if t > grow * (1 + SCALING_TOLERANCE):
                worse.append(
                    f"{stage} time {a.size:,} → {b.size:,}: ×{t:.1f} for ×{grow:.1f} the "
                    f"{a.unit} ({t / grow:.2f}× linear)"
                )
            if (
                a.peak_gib
                and b.peak_gib
                and b.peak_gib / a.peak_gib > grow * (1 + SCALING_TOLERANCE)
            ):
                m = b.peak_gib / a.peak_gib
                worse.append(
                    f"{stage} peak {a.size:,} → {b.size:,}: ×{m:.1f} for ×{grow:.1f} "
                    f"({m / grow:.2f}× linear)"
                )
    if not sentences:
        return ["Scaling: one size only, nothing to compare (run with two or more `--sizes`)."]
    head = (
        "Scaling (time per unit and peak memory per unit; a fixed interpreter and library "
        "baseline makes per-unit peak fall with size; growth counts as worse than linear when "
        f"a cost rises more than {SCALING_TOLERANCE:.0%} faster than the work): "
    )
    verdict = (
        "Worse than linear: " + "; ".join(worse) + "."
        if worse
        else "No stage grows worse than linearly in time or peak memory."
    )
    return [head, "", *[f"- {s}" for s in sentences], "", verdict]


def write(rows: Sequence[Row], command: str, started: datetime, loads: tuple[float, float]) -> str:
    """The body of the ``## Suite`` section."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    over = [r for r in rows if r.checks and not r.ok]
    body = [
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}; load average {loads[0]:.1f} at the start, {loads[1]:.1f} at the "
        "end  ",
        f"Run: {started:%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}",
        "",
        "Every stage runs in a fresh child process; *peak RSS* is that stage's own peak "
        "(the kernel's high-water mark, reset after loading where the stage loads records, "
        "loaded records included). Ratios are to a reference measured in the same child, so they "
        "hold on a noisy machine; see `bench/README.md`.",
        "",
        *table(rows),
        "",
    ]
    if over:
        body.append("Over target: " + "; ".join(
            f"{r.stage} at {r.size:,} ({', '.join(c.miss() for c in r.checks if not c.ok)})"
            for r in over
        ) + ".")  # fmt: skip
    else:
        body.append("Every stage with a target met it.")
    body += ["", *scaling(rows)]
    return "\n".join(body)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; print a line per stage; write the ``## Suite`` section."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, REGION])
    parser.add_argument("--full", action="store_true", help="add 1,000,000 families")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--load", action="store_true", help="add the 60 s review-app load test")
    parser.add_argument("--reuse", action="store_true", help="reuse cached populations")
    parser.add_argument("--repeats", type=int, default=3, help="best of N below 200,000 families")
    parser.add_argument("--n-boot", type=int, default=200, help="training bootstrap resamples")
    parser.add_argument("--items", type=int, default=10_000, help="review queue items")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to update")
    parser.add_argument("--no-results", action="store_true", help="print only")
    parser.add_argument("--_enqueue", choices=("postgresql", "sqlite"), help=argparse.SUPPRESS)
    parser.add_argument("--flags", type=int, default=20_000, help=argparse.SUPPRESS)
    parser.add_argument("--_review", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load-seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._enqueue:
        print(json.dumps(_enqueue_child(args._enqueue, args.postgres, args.flags, args.repeats)))
        return 0
    if args._review is not None:
        print(json.dumps(_review_child(args._review, 60, args.load_seconds)))
        return 0

    sizes = sorted(set(args.sizes) | ({FULL} if args.full else set()))
    stages = set(args.stages)
    started, t0 = datetime.now(UTC), time.perf_counter()
    load_start = os.getloadavg()[0]
    rows: list[Row] = []
    failed: list[str] = []

    def run(name: str, n: int, fn: Callable[[], list[Row]]) -> list[Row]:
        try:
            got = fn()
        except (StageError, subprocess.SubprocessError, OSError, ValueError, KeyError) as exc:
            got = [Row(name, n, note=f"failed: {exc}")]
            failed.append(f"{name} at {n:,}")
        for row in got:
            print(line(row, time.perf_counter() - t0), flush=True)
        rows.extend(got)
        if not args.no_results:
            flush(done=False)  # a stopped run still leaves the stages it finished
        return got

    def flush(done: bool) -> None:
        order = {s: i for i, s in enumerate(ROW_ORDER)}
        ordered = sorted(rows, key=lambda r: (order.get(r.stage, len(order)), r.stage, r.size))
        given = list(argv) if argv is not None else sys.argv[1:]
        command = "python -m bench.run " + shlex.join(
            a if "://" not in a else "<url>" for a in given
        )
        body = write(ordered, command.strip(), started, (load_start, os.getloadavg()[0]))
        if not done:
            body += "\n\n*Incomplete: stopped, or still running, after these stages.*"
        append_section(args.results, "Suite", body)

    # The screening model: trained once, untimed, on the region-sized population when there is
    # one, so that every size is screened by the same model.
    model_size = REGION if REGION in sizes else max(sizes)
    paths: dict[int, Path] = {}
    generated: set[int] = set()
    for n in [model_size, *[s for s in sizes if s != model_size]]:
        path = population_dir(n, args.seed)
        reuse = args.reuse or "generation" not in stages
        got = run("generation", n, partial(stage_generation, n, path, args.seed, reuse))
        if has_population(path) and not got[0].note.startswith("failed"):
            paths[n] = path
            if got[0].seconds is not None:
                generated.add(n)

    model_dir: Path | None = None
    # Training, the longest stage, runs last so that a stopped run still has everything else.
    for n in sizes:
        if n not in paths:
            continue
        path = paths[n]
        repeats = args.repeats if n <= 200_000 else 1
        if "features" in stages:
            run("features", n, partial(stage_features, n, path, repeats))
        if "screening" in stages and model_size in paths:
            if model_dir is None:
                model_dir = quick_model(paths[model_size], args.seed, model_size in generated)
            run("screening", n, partial(stage_screening, n, path, model_dir, repeats))
        if "enqueue" in stages:
            run("enqueue", n, partial(stage_enqueue, n, args.postgres, repeats))
    if "review" in stages:
        load_seconds = 60.0 if args.load else 0.0
        run("review", args.items, partial(stage_review, args.items, load_seconds))
    if "training" in stages:
        for n in [s for s in sizes if s in paths]:
            run("training", n, partial(stage_training, n, paths[n], args.n_boot))
    if not args.no_results:
        flush(done=True)
        print(f"wrote the '## Suite' section of {args.results}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
