"""A busy office: specialists and supervisors at once against the served review app.

The app is served on 127.0.0.1 over a store (SQLite or PostgreSQL) filled with the 2,000-family
sample's screening; its districts are the default region pack's (``risk.regions.load_region``).
Each simulated person logs in through the app's login route and drives the page's own events
over HTTP, exactly as the browser does (``gradio_api/queue/join`` then the event stream, one
browser session each):

* a specialist, ``--cycles`` times: the queue page (25 rows) → opens one card of that page
  (the card with its charts, audited) → saves a decision in the same session;
* a supervisor, ``--cycles`` times: opens the supervisor view.

People log in at random moments over the first ``--ramp`` seconds (all 55 within 10 s by
default, a harsher morning than a real office's). Between two actions a person reads for
``--think`` seconds on average (uniform from half to one and a half times it; 0: back to back,
which measures the server saturated).

The app is served by ``--workers`` processes (``review_app.serve(workers=N)``, what
``risk review --workers`` runs): with more than one, the proxy in front keeps each browser with
its process. Server CPU counts the serving process (the proxy) and every app process.

Every person stops after ``--cycles`` rounds or at ``--seconds``, whichever comes first.
Afterwards every decision the page acknowledged ("saved") must be in the store, each item
decided at most once, every refusal a conflict, and the audit log must verify.

Usage::

    python -m bench.bench_office --store sqlite --workers 2 --results bench/RESULTS.md
    python -m bench.bench_office --store postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --workers 2 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import append_section, machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "review_app"))

from http_page import Browser, event_ids  # noqa: E402
from review_app_fakes import load_sample, make_screening  # noqa: E402

from review_app import serve  # noqa: E402
from risk.regions import load_region  # noqa: E402
from risk.review import ReviewQueue  # noqa: E402

PASSWORD = "office-bench-password-1"
RATIONALE = "Called the family; they agreed to meet at the centre next week."
#: What the page says when another decision won the item (a conflict, not a failure).
CONFLICTS = ("already decided", "changed since", "another decision", "уже", "изменил")
TIMED = ("queue_page", "card_open", "save_decision", "supervisor_view")


def fill(url: str, capacity: int, specialists: int, supervisors: int) -> dict[str, str]:
    """Enqueue the sample's screening; add the people (region districts, several per district)."""
    districts = load_region().district_codes
    queue = ReviewQueue(url)
    try:
        screening = make_screening(load_sample(), capacity=capacity)
        queue.enqueue(screening, "office-run")
        present = sorted(set(queue.items(status="open")["district"]) & set(districts))
        users = {}
        for i in range(specialists):
            name = f"spec{i:02d}"
            queue.add_user(name, PASSWORD, "specialist", [present[i % len(present)]])
            users[name] = "specialist"
        for i in range(supervisors):
            name = f"sup{i}"
            queue.add_user(name, PASSWORD, "supervisor", present)
            users[name] = "supervisor"
    finally:
        queue.close()
    return users


def _server(url: str, workers: int, ready: Any, stop: Any) -> None:
    """Serve the app over ``url`` in this (separate) process until ``stop`` is set."""
    from review_app import build_app

    queue = ReviewQueue(url)
    app, served = serve(queue, port=0, block=False, quiet=True, workers=workers)
    pids = getattr(app, "pids", [])
    # The page's events as the served processes number them (the same app, built alike).
    fns = event_ids(app if workers == 1 else build_app(queue))
    started = time.process_time() + sum(map(_cpu_seconds, pids))
    ready.put((served, fns))
    stop.wait()
    # CPU seconds the server spent serving (all its threads and processes): the office's cost.
    ready.put(time.process_time() + sum(map(_cpu_seconds, pids)) - started)
    app.close(verbose=False)
    queue.close()


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Serve the app over ``url``, run the office, check the store; return the figures.

    The server runs in its own process, so that the simulated browsers (threads here) take
    none of its interpreter's time.
    """
    import multiprocessing

    users = fill(url, args.capacity, args.specialists, args.supervisors)
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=_server, args=(url, args.workers, ready, stop))
    server.start()
    served, fns = ready.get(timeout=300)
    times: dict[str, list[float]] = {k: [] for k in TIMED}
    starts: dict[str, list[float]] = {k: [] for k in TIMED}
    acknowledged: list[tuple[int, str]] = []
    refused: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def timed(key: str, browser: Browser, fn: str, data: list[Any]) -> list[Any]:
        start = time.perf_counter()
        out = browser.call(fn, data)
        with lock:
            times[key].append(time.perf_counter() - start)
            starts[key].append(start)
        return out

    def think(rng: random.Random) -> None:
        if args.think > 0:
            time.sleep(rng.uniform(0.5, 1.5) * args.think)

    def specialist(user: str) -> None:
        rng = random.Random(user)
        time.sleep(rng.uniform(0, args.ramp))  # people arrive over the first seconds
        browser = Browser(served, user, PASSWORD, fns)
        try:
            for _ in range(args.cycles):
                if time.monotonic() >= deadline:
                    return
                summary, table, _page = timed(
                    "queue_page", browser, "show_queue", ["", "", "awaiting", 1]
                )
                rows = (table or {}).get("data") or []
                if not rows:
                    return
                flag_id = int(rng.choice(rows)[0])
                think(rng)
                timed("card_open", browser, "open_card", [flag_id])
                think(rng)
                result, _history, _head = timed(
                    "save_decision",
                    browser,
                    "save_decision",
                    [None, "referred", [], None, [], RATIONALE, "agree"],  # states: None
                )
                text = str(result)
                with lock:
                    if text.startswith("✅"):
                        acknowledged.append((flag_id, user))
                    else:
                        refused.append(text)
                think(rng)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            with lock:
                errors.append(f"{user}: {exc}")
        finally:
            browser.close()

    def supervisor(user: str) -> None:
        rng = random.Random(user)
        time.sleep(rng.uniform(0, args.ramp))  # people arrive over the first seconds
        browser = Browser(served, user, PASSWORD, fns)
        try:
            for _ in range(args.cycles):
                if time.monotonic() >= deadline:
                    return
                timed("supervisor_view", browser, "supervisor_view", [])
                think(rng)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            with lock:
                errors.append(f"{user}: {exc}")
        finally:
            browser.close()

    threads = [
        threading.Thread(target=specialist if role == "specialist" else supervisor, args=(u,))
        for u, role in users.items()
    ]
    began, client_began = time.perf_counter(), time.process_time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - began
    client_cpu = time.process_time() - client_began
    stop.set()
    server_cpu = float(ready.get(timeout=60))
    server.join(timeout=60)
    queue = ReviewQueue(url)
    stored = queue.decisions()
    pairs = set(zip(stored["flag_id"].astype(int), stored["user"].astype(str), strict=True))
    out: dict[str, Any] = {
        "wall_s": wall,
        "server_cpu_s": server_cpu,
        "client_cpu_s": client_cpu,
        "acknowledged": len(acknowledged),
        "refused": len(refused),
        "refused_not_conflict": sum(not any(m in r for m in CONFLICTS) for r in refused),
        "errors": errors,
        "refusals": sorted(set(refused))[:5],
        "lost": sum(p not in pairs for p in acknowledged),
        "duplicated_items": int(stored["flag_id"].duplicated().sum()),
        "audit_ok": bool(queue.verify_audit_log().ok),
    }
    for key, values in times.items():
        ms = 1000 * np.asarray(values) if values else np.asarray([np.nan])
        out[key] = {
            "n": len(values),
            "p50": float(np.percentile(ms, 50)),
            "p95": float(np.percentile(ms, 95)),
            "max": float(np.max(ms)),
            # When the slowest 5% started (seconds into the run): a burst, or all along.
            "slowest_at_s": sorted(
                round(b - began, 1)
                for b, v in zip(starts[key], values, strict=True)
                if 1000 * v >= np.percentile(ms, 95)
            ),
        }
    queue.close()
    return out


def _postgres(url: str) -> tuple[str, Any]:
    """A fresh database on the server of ``url``; return its URL and a function dropping it."""
    import sqlalchemy as sa

    name = f"office_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return str(sa.make_url(url).set(database=name).render_as_string(hide_password=False)), drop


def _table(label: str, r: dict[str, Any]) -> list[str]:
    lines = [
        f"**{label}**: {r['wall_s']:.0f} s wall, server CPU {r['server_cpu_s']:.0f} s "
        f"({1000 * r['server_cpu_s'] / max(1, sum(r[k]['n'] for k in TIMED)):.0f} ms per action), "
        f"simulated browsers' CPU {r['client_cpu_s']:.0f} s; "
        f"{r['acknowledged']} decisions saved, "
        f"{r['refused']} refused ({r['refused_not_conflict']} not a conflict), "
        f"{len(r['errors'])} errors; lost {r['lost']}, items decided twice "
        f"{r['duplicated_items']}, audit log verifies: {r['audit_ok']}.",
        "",
        "| step | n | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for key in TIMED:
        s = r[key]
        lines.append(f"| {key} | {s['n']} | {s['p50']:.0f} | {s['p95']:.0f} | {s['max']:.0f} |")
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", default="sqlite", help="'sqlite' (a temporary file) or a URL")
    p.add_argument("--specialists", type=int, default=50)
    p.add_argument("--supervisors", type=int, default=5)
    p.add_argument("--cycles", type=int, default=5, help="rounds per person")
    p.add_argument("--seconds", type=float, default=300.0, help="stop starting rounds after")
    p.add_argument(
        "--ramp", type=float, default=10.0, help="people log in over these first seconds"
    )
    p.add_argument("--think", type=float, default=3.0, help="mean seconds between actions")
    p.add_argument("--workers", type=int, default=1, help="processes serving the app")
    p.add_argument("--capacity", type=int, default=60, help="items flagged per district")
    p.add_argument("--results", type=Path, default=None)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.store == "sqlite":
            url, drop, label = f"sqlite:///{Path(tmp) / 'office.db'}", None, "SQLite"
        else:
            (url, drop), label = _postgres(args.store), "PostgreSQL"
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        try:
            result = run(url, args)
        finally:
            if drop is not None:
                drop()
    print(json.dumps({"store": label, "uptime_before": load, **result}, indent=1, default=str))
    if args.results:
        command = "python -m bench.bench_office " + shlex.join(
            list(argv) if argv is not None else sys.argv[1:]
        )
        body = [
            f"{args.specialists} specialists and {args.supervisors} supervisors, "
            f"{args.cycles} rounds each (at most {args.seconds:.0f} s), logging in over the first "
            f"{args.ramp:g} s, {args.think:g} s between actions on average, page events over "
            f"HTTP; the app served by {args.workers} process{'es' if args.workers > 1 else ''}. "
            f"`{command}`; {machine()}; `uptime` before: {load}.",
            "",
            *_table(label, result),
        ]
        processes = f"{args.workers} process{'es' if args.workers > 1 else ''}"
        title = f"A busy office ({label}, {processes}, {args.think:g} s between actions)"
        append_section(args.results, title, "\n".join(body))
    bad = result["lost"] or result["duplicated_items"] or not result["audit_ok"]
    return 1 if bad or result["errors"] or result["refused_not_conflict"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
