"""The app served by two processes behind one address, on SQLite and on PostgreSQL.

Real processes, a real store and the page's own events over HTTP (``http_page.Browser``):
browsers are spread over the processes and stay with theirs, a decision saved through one
process is what the other shows, and a process that dies is started again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from review_app import build_app, serve
from review_app._proxy import COOKIE
from review_app._workers import Workers, free_port, spec_for
from risk.review import ReviewQueue
from tests.review_app.http_page import Browser, event_ids
from tests.review_app.review_app_fakes import USERS, make_queue
from tests.risk.review.conftest import BACKENDS, store_at

RATIONALE = "Called the family; they agreed to meet at the centre next week."


def _filled(url: str, screening: object) -> ReviewQueue:
    queue = ReviewQueue(url)
    queue.migrate()
    queue.enqueue(screening, "run-2025-06")  # type: ignore[arg-type]
    for name, (password, role, districts) in USERS.items():
        queue.add_user(name, password, role, districts)
    return queue


@pytest.fixture(scope="module", params=BACKENDS)
def office(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake_screening: object
) -> Iterator[tuple[ReviewQueue, Workers, dict[str, int]]]:
    with store_at(request.param, tmp_path_factory.mktemp("workers")) as url:
        queue = _filled(url, fake_screening)
        served, _ = serve(queue, port=0, block=False, quiet=True, workers=2)
        try:
            assert isinstance(served, Workers)
            yield queue, served, event_ids(build_app(queue))
        finally:
            served.close()
            queue.close()


def test_browsers_are_spread_over_the_processes_and_share_one_store(
    office: tuple[ReviewQueue, Workers, dict[str, int]],
) -> None:
    queue, served, fns = office
    assert len(served.pids) == 2 and os.getpid() not in served.pids
    browsers = [Browser(served.url, "anna", USERS["anna"][0], fns) for _ in range(4)]
    try:
        assert {b.worker for b in browsers} == {"0", "1"}
        one = next(b for b in browsers if b.worker == "1")
        other = next(b for b in browsers if b.worker == "0")
        _summary, table, _page = one.call("show_queue", ["", "", "awaiting", 1])
        flags = [int(row[0]) for row in table["data"]]
        assert flags == [
            int(r[0]) for r in other.call("show_queue", ["", "", "awaiting", 1])[1]["data"]
        ]

        one.call("open_card", [flags[0]])
        result = one.call("save_decision", [None, "referred", [], None, [], RATIONALE, "agree"])[0]
        assert str(result).startswith("✅"), result
        # What the other process shows is the store: the decided item has left the queue.
        left = [int(r[0]) for r in other.call("show_queue", ["", "", "awaiting", 1])[1]["data"]]
        assert flags[0] not in left
        decided = queue.decisions()
        assert list(decided["flag_id"].astype(int)) == [flags[0]]
        # Both processes audited their views into one chain, which still verifies.
        assert queue.verify_audit_log().ok
    finally:
        for b in browsers:
            b.close()


def test_a_session_is_refused_by_the_process_that_does_not_hold_its_login(
    office: tuple[ReviewQueue, Workers, dict[str, int]],
) -> None:
    _queue, served, fns = office
    browser = Browser(served.url, "boris", USERS["boris"][0], fns)
    try:
        moved = "1" if browser.worker == "0" else "0"
        browser.http.cookies.set(COOKIE, moved, domain="127.0.0.1")
        with pytest.raises(httpx.HTTPStatusError) as refused:
            browser.call("show_queue", ["", "", "awaiting", 1])
        assert refused.value.response.status_code == 401
    finally:
        browser.close()


def test_a_process_that_dies_is_started_again(
    tmp_path: Path, fake_screening: object, capfd: pytest.CaptureFixture[str]
) -> None:
    queue = make_queue(tmp_path / "review.db", fake_screening)  # type: ignore[arg-type]
    fns = event_ids(build_app(queue))
    served, url = serve(queue, port=0, block=False, quiet=True, workers=2)
    assert isinstance(served, Workers)
    try:
        before = served.pids
        os.kill(before[0], signal.SIGKILL)
        # Meanwhile its browsers get the page asking them to reload, in both languages.
        down = httpx.get(url, cookies={COOKIE: "0"})
        if down.status_code == 502:
            assert "Reload the page" in down.text and "Обновите страницу" in down.text
        deadline = time.monotonic() + 120
        while served.restarts == 0 or httpx.get(url, cookies={COOKIE: "0"}).status_code != 200:
            assert time.monotonic() < deadline, "the process was not started again"
            time.sleep(0.5)
        assert served.pids[0] != before[0] and served.pids[1] == before[1]
        assert "starting it again" in capfd.readouterr().err
        # A browser of that process signs in again and works.
        browser = Browser(url, "anna", USERS["anna"][0], fns)
        try:
            assert browser.call("show_queue", ["", "", "awaiting", 1])[1]["data"]
        finally:
            browser.close()
    finally:
        served.close()
        queue.close()
    assert all(not _alive(pid) for pid in before[1:] + served.pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_process_that_cannot_start_is_named_with_its_error(
    tmp_path: Path, fake_screening: object
) -> None:
    queue = make_queue(tmp_path / "review.db", fake_screening)  # type: ignore[arg-type]
    try:
        spec = spec_for(queue, {"no_such_option": 1}, None)
        workers = Workers(spec, 2, "127.0.0.1", 0, launch=serve)
        with pytest.raises(RuntimeError, match=r"failed to start: TypeError: .*no_such_option"):
            workers.start()
        assert all(not _alive(pid) for pid in workers.pids)
    finally:
        queue.close()


def test_several_processes_need_a_store_they_can_share(tmp_path: Path) -> None:
    memory = ReviewQueue("sqlite://")
    try:
        with pytest.raises(ValueError, match="SQLite in memory"):
            serve(memory, port=0, block=False, quiet=True, workers=2)
        with pytest.raises(ValueError, match="workers must be 1 or more; got 0"):
            serve(memory, port=0, block=False, quiet=True, workers=0)
    finally:
        memory.close()


def test_risk_review_with_processes_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """What a service manager does: SIGTERM to ``risk review``; no process is left behind."""
    import subprocess
    import sys

    port = free_port("127.0.0.1")
    risk = Path(sys.executable).with_name("risk")
    store = f"sqlite:///{tmp_path / 'review.db'}"
    args = [str(risk), "review", "--store", store, "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "risk review did not start"
            time.sleep(0.3)
        children = [
            int(pid)
            for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        ]
        assert len(children) >= 2
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "2 processes" in out and "stopping the review app" in out
    assert "Traceback" not in out and "starting it again" not in out
    # Its children (the app processes, multiprocessing's resource tracker) end with it.
    deadline = time.monotonic() + 10
    while [pid for pid in children if _alive(pid)]:
        assert time.monotonic() < deadline, [pid for pid in children if _alive(pid)]
        time.sleep(0.2)


def test_a_taken_port_is_named_and_nothing_is_left_running(
    tmp_path: Path, fake_screening: object
) -> None:
    import socket

    from risk import UnavailableError

    queue = make_queue(tmp_path / "review.db", fake_screening)  # type: ignore[arg-type]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        workers = Workers(spec_for(queue, {}, None), 2, "127.0.0.1", port, launch=serve)
        try:
            with pytest.raises(UnavailableError, match=rf"127\.0\.0\.1:{port}: .*--port"):
                workers.start()
            assert workers.pids == []  # refused before any process was started
        finally:
            queue.close()
