"""The review app killed (SIGKILL) while specialists are deciding loses no recorded decision.

The app runs as a real ``risk review`` subprocess on loopback over a SQLite store; two
specialists record decisions through ``gradio_client`` from threads; the server is killed in the
middle, restarted on the same store, and every decision acknowledged before the kill is there
exactly once, the audit chain verifies, and the specialists carry on.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from risk.review import ReviewQueue
from tests.reliability.review_setup import fill_store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RATIONALE = "Visited the family; they accepted a consultation at the centre."
RISK = Path(sys.executable).with_name("risk")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_app(url: str, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``risk review`` and wait until it answers; kill it on exit if still running."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(RISK), "review", "--store", url, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.3)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, Path]:
    tmp = tmp_path_factory.mktemp("restart")
    url = f"sqlite:///{tmp / 'review.db'}"
    return url, fill_store(url, tmp, capacity=12), tmp


def _decide_all(
    client: Client, flags: list[int], acknowledged: list[int], stop: threading.Event
) -> None:
    for flag in flags:
        if stop.is_set():
            return
        try:
            client.predict(flag, api_name="/open_family")
            client.predict(
                flag, "no_outreach_needed", RATIONALE, [], False, api_name="/record_decision"
            )
        except Exception:  # noqa: BLE001 - the server is being killed: any failure ends the run
            return
        acknowledged.append(flag)


def test_killed_app_loses_no_acknowledged_decision(store: tuple[str, dict, Path]) -> None:
    url, users, tmp = store
    port = _free_port()
    queue = ReviewQueue(url)
    flags = {
        name: queue.items(status="open", districts=(district,))["flag_id"].astype(int).tolist()
        for name, (_, _, district) in users.items()
    }
    acknowledged: dict[str, list[int]] = {name: [] for name in users}
    stop = threading.Event()
    with running_app(url, port, tmp / "app.log") as proc:
        clients = {
            name: Client(f"http://127.0.0.1:{port}/", auth=(name, users[name][0]), verbose=False)
            for name in users
        }
        threads = [
            threading.Thread(target=_decide_all, args=(clients[n], flags[n], acknowledged[n], stop))
            for n in users
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while sum(map(len, acknowledged.values())) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(t.is_alive() for t in threads), "kill while the clients are still deciding"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    acked = [f for name in users for f in acknowledged[name]]
    assert len(acked) >= 4 and len(acked) < sum(map(len, flags.values()))

    with running_app(url, port, tmp / "app.log"):
        decisions = queue.decisions()
        counts = decisions["flag_id"].astype(int).value_counts()
        for flag in acked:
            assert counts.get(flag, 0) == 1, flag
        assert (counts == 1).all(), "no item has two decisions"
        decided = set(queue.items(status="decided")["flag_id"].astype(int))
        assert decided == set(counts.index)
        verified = queue.verify_audit_log()
        assert verified.ok, verified
        # The specialists carry on after the restart.
        for name in users:
            client = Client(f"http://127.0.0.1:{port}/", auth=(name, users[name][0]), verbose=False)
            remaining = [i["flag_id"] for i in client.predict(api_name="/list_queue")]
            assert not set(remaining) & decided
            flag = remaining[0]
            client.predict(flag, api_name="/open_family")
            client.predict(flag, "referred", RATIONALE, [], True, api_name="/record_decision")
            assert len(queue.decisions(flag_id=flag)) == 1
    assert queue.verify_audit_log().ok
    queue.close()
