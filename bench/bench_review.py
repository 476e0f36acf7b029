"""Load test of the review app on loopback, and queue page latency at 10,000 items.

1. **Load**: the app served on 127.0.0.1 over a fresh SQLite store holding the 2,000-family
   sample's flags; ``--specialists`` simulated specialists (gradio_client, one thread each, all
   with access to every district, so that they collide) loop for ``--seconds``: list the queue,
   open one of the top 30 families, decide. Afterwards every decision a client was told it
   recorded must be in the store exactly once, each item decided at most once, and every refusal
   a conflict.
2. **Queue page at 10,000 items**: a store with ``--items`` open items in one user's districts;
   the page the app shows (``ReviewService.queue_page``, 25 rows, by tier then score; paged and
   counted in the store) timed in-process, and the ``list_queue`` endpoint timed over HTTP, both
   whole (every item awaiting a decision) and one page of 100: median and 95th percentile.

Usage::

    python -m bench.bench_review --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import append_section, machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "review_app"))

from review_app_fakes import load_sample, make_screening  # noqa: E402

from review_app import serve  # noqa: E402
from review_app._service import ReviewService  # noqa: E402
from risk.review import ReviewQueue  # noqa: E402

PASSWORD = "bench-password-1"
#: What ``risk.review`` says when another decision won (DecisionConflict).
CONFLICTS = ("already decided", "changed since you read it", "another decision was recorded")
RATIONALE = "Load test: called the family and agreed on a visit."


def _store(path: Path, n_runs: int, capacity: int) -> tuple[ReviewQueue, list[str]]:
    records = load_sample()
    queue = ReviewQueue(f"sqlite:///{path}")
    districts: set[str] = set()
    for run in range(n_runs):
        screening = make_screening(records, capacity=capacity, family_prefix=f"R{run}-")
        queue.enqueue(screening, f"run-{run}")
        districts |= set(screening.scores["district"])
    return queue, sorted(districts)


def load_test(n_specialists: int, seconds: float) -> dict[str, Any]:
    """Run the concurrent deciders; return counts, latencies and the consistency checks."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with tempfile.TemporaryDirectory() as tmp:
        queue, districts = _store(Path(tmp) / "load.db", 1, 200)
        for i in range(n_specialists):
            queue.add_user(f"bench{i:02d}", PASSWORD, "specialist", districts)
        app, url = serve(queue, port=0, block=False, quiet=True)
        recorded: list[tuple[int, int]] = []
        refused: list[str] = []
        latencies: list[float] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def specialist(i: int) -> None:
            rng = random.Random(i)
            client = Client(url, auth=(f"bench{i:02d}", PASSWORD), verbose=False)
            while time.monotonic() < deadline:
                start = time.perf_counter()
                items = client.predict(api_name="/list_queue")
                if not items:
                    return
                flag = rng.choice(items[:30])["flag_id"]
                client.predict(flag, api_name="/open_family")
                try:
                    d = client.predict(
                        flag, "referred", RATIONALE, [], True, api_name="/record_decision"
                    )
                except AppError as exc:
                    with lock:
                        refused.append(str(exc))
                else:
                    with lock:
                        recorded.append((int(d["decision_id"]), int(d["flag_id"])))
                with lock:
                    latencies.append(time.perf_counter() - start)

        threads = [threading.Thread(target=specialist, args=(i,)) for i in range(n_specialists)]
        began = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - began
        app.close(verbose=False)
        stored = queue.decisions()
        ids = set(stored["decision_id"].astype(int))
        out = {
            "wall_s": wall,
            "decisions": len(recorded),
            "refused": len(refused),
            "refused_not_conflict": sum(not any(m in r for m in CONFLICTS) for r in refused),
            "lost": sum(d not in ids for d, _ in recorded),
            "stored": len(stored),
            "duplicated_items": int(stored["flag_id"].duplicated().sum()),
            "cycle_median_ms": 1000 * float(np.median(latencies)) if latencies else float("nan"),
            "cycle_p95_ms": 1000 * float(np.percentile(latencies, 95))
            if latencies
            else float("nan"),
            "audit_ok": queue.verify_audit_log().ok,
            "refusals": refused,
        }
        queue.close()
        return out


def page_latency(n_items: int, repeats: int) -> dict[str, Any]:
    """Time the queue page and the list endpoint with ``n_items`` open items for one user."""
    from gradio_client import Client

    per_run = 1800  # about the sample's screening population
    with tempfile.TemporaryDirectory() as tmp:
        queue, districts = _store(Path(tmp) / "page.db", -(-n_items // per_run), 10_000)
        queue.add_user("pager", PASSWORD, "specialist", districts)
        service = ReviewService(queue)
        total = service.queue_page("pager").total
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            service.queue_page("pager", page=1 + i % 20)
            times.append(time.perf_counter() - start)
        app, url = serve(queue, port=0, block=False, quiet=True)
        client = Client(url, auth=("pager", PASSWORD), verbose=False)
        http, http_page = [], []
        for i in range(max(5, repeats // 4)):
            start = time.perf_counter()
            client.predict(api_name="/list_queue")
            http.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.predict(1 + i % 20, 100, api_name="/list_queue")
            http_page.append(time.perf_counter() - start)
        app.close(verbose=False)
        queue.close()
    return {
        "items": total,
        "page_median_ms": 1000 * float(np.median(times)),
        "page_p95_ms": 1000 * float(np.percentile(times, 95)),
        "list_median_ms": 1000 * float(np.median(http)),
        "list_p95_ms": 1000 * float(np.percentile(http, 95)),
        "list_page_median_ms": 1000 * float(np.median(http_page)),
        "list_page_p95_ms": 1000 * float(np.percentile(http_page, 95)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run both measurements; print them and optionally record them in RESULTS.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--specialists", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="at most 60")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--results", type=Path, help="record figures in this Markdown file")
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 60.0)

    load = load_test(args.specialists, seconds)
    print("load:", {k: v for k, v in load.items() if k != "refusals"})
    for r in sorted(set(load["refusals"]))[:5]:
        print("  refused:", r[:200])
    page = page_latency(args.items, args.repeats)
    print("page:", page)
    ok = load["lost"] == 0 and load["duplicated_items"] == 0 and load["stored"] == load["decisions"]
    if args.results:
        cmd = "python -m bench.bench_review " + shlex.join(list(argv or sys.argv[1:]))
        body = (
            f"`{cmd.strip()}` on {machine()}, SQLite store, app on 127.0.0.1.\n\n"
            f"| measure | value |\n|---|---|\n"
            f"| specialists deciding concurrently | {args.specialists} for "
            f"{load['wall_s']:.0f} s |\n"
            f"| decisions recorded / refused (all conflicts: "
            f"{load['refused_not_conflict'] == 0}) | {load['decisions']} / {load['refused']} |\n"
            f"| lost decisions / items decided twice | {load['lost']} / "
            f"{load['duplicated_items']} |\n"
            f"| list + open + decide cycle, median / p95 | {load['cycle_median_ms']:.0f} ms / "
            f"{load['cycle_p95_ms']:.0f} ms |\n"
            f"| audit chain verifies | {load['audit_ok']} |\n"
            f"| queue page (25 rows) at {page['items']:,} items, median / p95 | "
            f"{page['page_median_ms']:.0f} ms / {page['page_p95_ms']:.0f} ms |\n"
            f"| `list_queue` over HTTP at {page['items']:,} items, median / p95 | "
            f"{page['list_median_ms']:.0f} ms / {page['list_p95_ms']:.0f} ms |\n"
            f"| `list_queue` page of 100 over HTTP, median / p95 | "
            f"{page['list_page_median_ms']:.0f} ms / {page['list_page_p95_ms']:.0f} ms |\n"
        )
        append_section(args.results, "Review app", body)
    return 0 if ok and load["audit_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
