"""The sticky proxy in front of several app processes, over real sockets.

Two small HTTP servers stand in for the app's processes: each answers with its own number, the
request's path, the headers it was sent and the size of the body it read. The proxy runs its
own event loop in a thread, as ``serve(workers=N)`` runs it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from review_app._proxy import COOKIE, StickyProxy
from review_app._workers import free_port

#: Paths every stand-in process was asked for.
ASKED: list[str] = []


def _backend(number: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            ASKED.append(self.path)
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size) if size else b""
            if self.path == "/stream":
                # An event stream: chunked, several pieces, as Gradio's queue/data sends.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(5):
                    piece = f"data: {json.dumps({'n': i, 'pad': 'x' * 20_000})}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                return
            out = json.dumps(
                {
                    "backend": number,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": len(body),
                    "body_sum": sum(body) % 65521,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Running:
    """A proxy listening on a free loopback port, in its own loop thread."""

    def __init__(self, proxy: StickyProxy) -> None:
        self.proxy = proxy
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(proxy.start("127.0.0.1", 0))
            self.port = int(server.sockets[0].getsockname()[1])
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        def close() -> None:
            self.proxy.close()
            for task in asyncio.all_tasks(self.loop):
                task.cancel()
            self.loop.call_soon(self.loop.stop)

        self.loop.call_soon_threadsafe(close)
        self.thread.join(10)


@pytest.fixture(scope="module")
def backends() -> Iterator[list[ThreadingHTTPServer]]:
    servers = [_backend(0), _backend(1)]
    yield servers
    for s in servers:
        s.shutdown()


def _proxy(backends: list[ThreadingHTTPServer], **kwargs: object) -> Running:
    ports = [("127.0.0.1", int(s.server_address[1])) for s in backends]
    return Running(StickyProxy(ports, **kwargs))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def proxy(backends: list[ThreadingHTTPServer]) -> Iterator[Running]:
    running = _proxy(backends)
    yield running
    running.stop()


def test_each_browser_is_given_a_process_and_stays_with_it(proxy: Running) -> None:
    seen: list[list[int]] = []
    for _ in range(4):
        with httpx.Client() as browser:
            first = browser.get(f"{proxy.url}/")
            assert first.status_code == 200
            cookie = browser.cookies.get(COOKIE)
            assert cookie is not None and "HttpOnly" in first.headers["set-cookie"]
            numbers = [first.json()["backend"]]
            for path in ("/config", "/gradio_api/queue/join", "/x"):
                r = browser.get(f"{proxy.url}{path}")
                assert "set-cookie" not in r.headers  # given once
                numbers.append(r.json()["backend"])
            assert set(numbers) == {int(cookie)}
            seen.append(numbers)
    # New browsers are given the processes in turn.
    assert {s[0] for s in seen} == {0, 1}


def test_the_cookie_routes_every_request_even_on_a_shared_connection(proxy: Running) -> None:
    with httpx.Client() as client:  # one keep-alive connection, cookies set by hand
        for want in (1, 0, 1, 1, 0):
            r = client.get(f"{proxy.url}/p", headers={"Cookie": f"a=b; {COOKIE}={want}"})
            assert r.json()["backend"] == want
            assert "set-cookie" not in r.headers


def test_a_cookie_naming_no_process_is_replaced(proxy: Running) -> None:
    for bad in ("7", "-1", "x", ""):
        r = httpx.get(f"{proxy.url}/", headers={"Cookie": f"{COOKIE}={bad}"})
        assert r.status_code == 200
        assert r.cookies.get(COOKIE) in {"0", "1"}


def test_request_bodies_and_streams_pass_whole(proxy: Running) -> None:
    body = bytes(range(256)) * 1000  # 256 kB, several reads
    with httpx.Client() as browser:
        r = browser.post(f"{proxy.url}/gradio_api/queue/join", content=body)
        assert r.json()["body"] == len(body)
        assert r.json()["body_sum"] == sum(body) % 65521
        # The same connection serves the next request after a body.
        assert browser.get(f"{proxy.url}/after").json()["path"] == "/after"
        with browser.stream("GET", f"{proxy.url}/stream") as s:
            events = [json.loads(x[5:]) for x in s.iter_lines() if x.startswith("data:")]
        assert [e["n"] for e in events] == [0, 1, 2, 3, 4]


def test_a_client_cannot_choose_its_forwarded_address(backends: list[ThreadingHTTPServer]) -> None:
    outside = _proxy(backends, trusted=())
    try:
        r = httpx.get(
            f"{outside.url}/",
            headers={"X-Forwarded-For": "10.9.9.9", "Forwarded": "for=10.9.9.9"},
        )
        sent = r.json()["headers"]
        assert sent["x-forwarded-for"] == "127.0.0.1"
        assert "forwarded" not in sent
    finally:
        outside.stop()


def test_a_trusted_front_keeps_the_address_it_forwards(proxy: Running) -> None:
    r = httpx.get(f"{proxy.url}/", headers={"X-Forwarded-For": "10.1.2.3"})
    assert r.json()["headers"]["x-forwarded-for"] == "10.1.2.3"
    r = httpx.get(f"{proxy.url}/")
    assert r.json()["headers"]["x-forwarded-for"] == "127.0.0.1"
    # The Host the browser used reaches the process unchanged (its same-origin check).
    assert r.json()["headers"]["host"] == f"127.0.0.1:{proxy.port}"


def test_a_process_that_is_down_gets_a_page_asking_to_reload() -> None:
    closed = free_port("127.0.0.1")  # nothing listens there
    running = Running(StickyProxy([("127.0.0.1", closed)]))
    try:
        r = httpx.get(f"{running.url}/")
        assert r.status_code == 502
        assert r.headers["retry-after"] == "5"
        assert "Обновите страницу" in r.text and "Reload the page" in r.text
        assert 'lang="ru"' in r.text and 'lang="en"' in r.text
    finally:
        running.stop()


def _raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_malformed_requests_are_refused_by_name(proxy: Running) -> None:
    assert _raw(proxy.url, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert _raw(proxy.url, b"GET / HTTP/1.1\r\nno colon here\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    bad_length = b"POST /bad-length HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"
    assert b"Bad Content-Length" in _raw(proxy.url, bad_length)
    assert "/bad-length" not in ASKED  # refused before any process saw it
    huge = b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    assert _raw(proxy.url, huge).startswith(b"HTTP/1.1 431 ")


def test_a_proxy_needs_a_process() -> None:
    with pytest.raises(ValueError, match="at least one backend"):
        StickyProxy([])
