"""Other users' latency while failed logins hammer the review app (issue 17, finding 2).

The app is served on 127.0.0.1 over a fresh SQLite store (the 2,000-family sample's flags). A
logged-in specialist lists the queue (``/list_queue`` through gradio_client) ``--calls`` times
unloaded, then again while 4 threads post failed logins (unknown names, wrong passwords) as fast
as the server answers, for at most ``--seconds`` seconds or ``--max-logins`` attempts. Each
failed login costs a password hash and an audit row. Two configurations:

- **default**: the app as served (failed logins throttled per client address: after 20 in 10
  minutes an address is refused before any hash);
- **no address throttle**: every attempt pays the full hash, so what is measured is the
  password check running in a worker thread (one at a time) instead of on the event loop.

Target: loaded median at most 2x the unloaded one.

Usage::

    python -m bench.bench_login_load --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench._util import append_section, machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "review_app"))

from review_app_fakes import USERS, load_sample, make_queue, make_screening  # noqa: E402

from review_app import serve  # noqa: E402
from risk.review import AddressThrottle  # noqa: E402

USER = "anna"
THREADS = 4


def _latencies(client: object, calls: int) -> np.ndarray:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        client.predict(api_name="/list_queue")  # type: ignore[attr-defined]
        out.append(time.perf_counter() - start)
    return np.array(out) * 1000


def _hammer(url: str, stop: threading.Event, budget: list[int], lock: threading.Lock) -> None:
    with httpx.Client(timeout=60) as http:
        i = 0
        while not stop.is_set():
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            i += 1
            name = f"intruder{threading.get_ident() % 1000}-{i}"
            http.post(f"{url}login", data={"username": name, "password": "not-the-password"})


def run(throttle: AddressThrottle | None, calls: int, seconds: float, max_logins: int) -> dict:
    """Serve the app once, measure unloaded then loaded latency; return the figures."""
    from gradio_client import Client

    with tempfile.TemporaryDirectory() as tmp:
        queue = make_queue(Path(tmp) / "review.db", make_screening(load_sample(), capacity=12))
        app, url = serve(
            queue, host="127.0.0.1", port=0, block=False, quiet=True, login_throttle=throttle
        )
        try:
            client = Client(url, auth=(USER, USERS[USER][0]), verbose=False)
            _latencies(client, 5)  # warm up
            unloaded = _latencies(client, calls)
            stop, lock, budget = threading.Event(), threading.Lock(), [max_logins]
            threads = [
                threading.Thread(target=_hammer, args=(url, stop, budget, lock))
                for _ in range(THREADS)
            ]
            before = len(queue.audit_log())
            started = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(1.0)  # let the load build up
            loaded = []
            while time.perf_counter() - started < seconds and budget[0] > 0 and len(loaded) < calls:
                loaded.extend(_latencies(client, 1))
            stop.set()
            for t in threads:
                t.join(120)
            elapsed = time.perf_counter() - started
            log = queue.audit_log().iloc[before:]
            failed = log[log["action"] == "login_failed"]
            hashed = int((failed["details"].map(lambda d: d.get("reason")) == "unknown user").sum())
        finally:
            app.close()
            queue.close()
    return {
        "unloaded": np.array(unloaded),
        "loaded": np.array(loaded),
        "logins": len(failed),
        "hashed": hashed,
        "elapsed": elapsed,
    }


def _row(label: str, r: dict) -> str:
    u, lo = r["unloaded"], r["loaded"]
    ratio = float(np.median(lo) / np.median(u))
    return (
        f"| {label} | {np.median(u):.0f} / {np.percentile(u, 95):.0f} | "
        f"{np.median(lo):.0f} / {np.percentile(lo, 95):.0f} ({len(lo)} calls) | {ratio:.2f} | "
        f"{r['logins']:,} in {r['elapsed']:.0f} s ({r['hashed']:,} hashed) |"
    )


def main(argv: list[str] | None = None) -> None:
    """Run both configurations, print the table, optionally write it to the results file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--max-logins", type=int, default=2000)
    p.add_argument("--results", type=Path)
    args = p.parse_args(argv)
    rows = [
        _row("default (address throttle)", run(None, args.calls, args.seconds, args.max_logins)),
        _row(
            "no address throttle",
            run(AddressThrottle(max_failures=10**9), args.calls, args.seconds, args.max_logins),
        ),
    ]
    command = "python -m bench.bench_login_load " + shlex.join(argv or sys.argv[1:])
    body = "\n".join(
        [
            f"`{command.strip()}` on {machine()}; other user: `/list_queue` by gradio_client; "
            f"load: {THREADS} threads posting failed logins. Milliseconds.",
            "",
            "| configuration | unloaded median / p95 | loaded median / p95 | ratio of medians "
            "| failed logins |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if args.results:
        append_section(args.results, "Login load (issue 17)", body)


if __name__ == "__main__":
    main()
