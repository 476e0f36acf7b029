"""One address in front of several app processes, each browser kept with one of them.

Gradio keeps a browser's login, its page state and its event stream in the process that served
it, so every request of one browser must reach the same process. :class:`StickyProxy` gives
each browser a cookie naming its process (the first process free in turn) and routes every
request by it; a request without the cookie stays with the process of its connection.

It speaks just enough HTTP/1.1 to find where each request ends (``Content-Length``); replies
are passed back byte for byte. A chunked or upgraded request hands the rest of its connection
to one process. The client's address reaches the process in ``X-Forwarded-For`` (which uvicorn
trusts from loopback only); an address other than loopback cannot set it. When a process is
down, the browser gets a short page in Russian and English asking to reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: The cookie naming a browser's process.
COOKIE = "risk-worker"
#: Longest request head accepted (request line and headers).
HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024
_FORWARDING = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded")


@dataclass
class _Connection:
    """A browser's connection: the process its last request went to."""

    current: int | None = None


@dataclass
class _Backend:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    task: asyncio.Task[None] | None = field(default=None)


class StickyProxy:
    """Route each browser to one of ``backends`` (loopback ports), by a cookie.

    Parameters
    ----------
    backends : sequence of (host, port)
        The app's processes; a browser's cookie holds the index of its process.
    unavailable : callable, optional
        ``unavailable()`` -> bytes: the HTML body answered (502) when a process cannot be
        reached; default a short page in every language of the app.
    trusted : tuple of str
        Peers whose own ``X-Forwarded-For`` is passed on (a TLS front on this machine, say);
        every other peer's forwarding headers are replaced by its address. Default loopback.

    Examples
    --------
    >>> proxy = StickyProxy([("127.0.0.1", 9001), ("127.0.0.1", 9002)])
    >>> [proxy.worker_of(c) for c in (b"a=1; risk-worker=1", b"risk-worker=7", b"")]
    [1, None, None]
    >>> [proxy.next_worker() for _ in range(3)]
    [0, 1, 0]
    """

    def __init__(
        self,
        backends: Sequence[tuple[str, int]],
        *,
        unavailable: Callable[[], bytes] | None = None,
        trusted: tuple[str, ...] = ("127.0.0.1", "::1"),
    ) -> None:
        if not backends:
            raise ValueError("StickyProxy needs at least one backend")
        self.backends = list(backends)
        self._turn = itertools.cycle(range(len(self.backends)))
        self._unavailable = unavailable or _default_unavailable
        self.trusted = trusted
        self._server: asyncio.Server | None = None

    def worker_of(self, cookie_header: bytes) -> int | None:
        """Return the process a ``Cookie`` header names, or None (absent, malformed, unknown)."""
        key = COOKIE.encode() + b"="
        for part in cookie_header.split(b";"):
            part = part.strip()
            if part.startswith(key):
                value = part[len(key) :]
                if value.isdigit() and int(value) < len(self.backends):
                    return int(value)
                return None
        return None

    def next_worker(self) -> int:
        """Return the process given to the next new browser (in turn)."""
        return next(self._turn)

    async def start(self, host: str, port: int, *, serving: bool = True) -> asyncio.Server:
        """Listen on ``host:port`` (0: a free port); return the server.

        ``serving=False`` only takes the address: connections are accepted once the server's
        ``serve_forever`` (or ``start_serving``) runs.
        """
        self._server = await asyncio.start_server(
            self._handle, host, port, limit=HEAD_LIMIT, start_serving=serving
        )
        return self._server

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        # A connection's own task: on shutdown it ends quietly (asyncio's stream server
        # reports a cancelled connection task as an error).
        with contextlib.suppress(asyncio.CancelledError):
            await self._serve_connection(creader, cwriter)

    async def _serve_connection(
        self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter
    ) -> None:
        peer = cwriter.get_extra_info("peername")
        client = str(peer[0]) if peer else ""
        open_: dict[int, _Backend] = {}
        conn = _Connection()
        try:
            while True:
                try:
                    head = await creader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    await _answer(cwriter, 431, b"Request header fields too large")
                    return
                parsed = _parse_head(head)
                if parsed is None:
                    await _answer(cwriter, 400, b"Bad request")
                    return
                first_line, headers = parsed
                length = _header(headers, b"content-length")
                if length and not length.strip().isdigit():
                    await _answer(cwriter, 400, b"Bad Content-Length")
                    return
                named = self.worker_of(_header(headers, b"cookie"))
                worker = named if named is not None else conn.current
                if worker is None:
                    worker = self.next_worker()
                conn.current = worker
                backend = open_.get(worker)
                if backend is None:
                    host, port = self.backends[worker]
                    try:
                        reader, writer = await asyncio.open_connection(host, port, limit=_CHUNK)
                    except OSError:
                        await _answer(cwriter, 502, self._unavailable(), html=True)
                        return
                    backend = _Backend(reader, writer)
                    # A browser without the cookie is given it with the first reply.
                    cookie = _set_cookie(worker) if named is None else None
                    backend.task = asyncio.create_task(
                        self._back(worker, backend, cwriter, cookie, conn, open_)
                    )
                    open_[worker] = backend
                backend.writer.write(_rewrite(first_line, headers, client, client in self.trusted))
                raw = _header(headers, b"transfer-encoding") or _header(headers, b"upgrade")
                if raw:
                    # The rest of the connection belongs to this process.
                    await _copy(creader, backend.writer, None)
                    if backend.task is not None:
                        await backend.task
                    return
                if length:
                    if not await _copy(creader, backend.writer, int(length)):
                        return
                else:
                    await backend.writer.drain()
        finally:
            for backend in open_.values():
                if backend.task is not None:
                    backend.task.cancel()
                backend.writer.close()
            cwriter.close()

    async def _back(
        self,
        worker: int,
        backend: _Backend,
        cwriter: asyncio.StreamWriter,
        cookie: bytes | None,
        conn: _Connection,
        open_: dict[int, _Backend],
    ) -> None:
        """Pass a process's replies back; add the cookie to the first final reply's head."""
        try:
            while cookie is not None:
                head = await backend.reader.readuntil(b"\r\n\r\n")
                if head[9:12] in (b"100", b"102", b"103"):  # interim: passed as it is
                    cwriter.write(head)
                    continue
                cwriter.write(head[:-2] + cookie + b"\r\n")
                cookie = None
            while data := await backend.reader.read(_CHUNK):
                cwriter.write(data)
                await cwriter.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except RuntimeError:
            # The browser's connection closed under a write (uvloop says so this way).
            pass
        finally:
            open_.pop(worker, None)
            backend.writer.close()
            # The process ended the connection: a reply delimited by closing, or idle. The
            # browser's connection ends with it unless it has moved on to another process.
            if conn.current == worker:
                cwriter.close()

    def close(self) -> None:
        """Stop listening (connections in flight end on their own)."""
        if self._server is not None:
            self._server.close()


def _parse_head(head: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
    """Split a request head into its line and headers (names lower-cased); None if malformed."""
    lines = head[:-4].split(b"\r\n")
    first = lines[0]
    if first.count(b" ") != 2 or not first.endswith((b"HTTP/1.1", b"HTTP/1.0")):
        return None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            return None
        headers.append((name.lower(), value.strip()))
    return first, headers


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    return b"; ".join(v for k, v in headers if k == name)


def _rewrite(
    first: bytes, headers: list[tuple[bytes, bytes]], client: str, trusted_peer: bool
) -> bytes:
    """Build the head sent on: the client's address in ``X-Forwarded-For``.

    A trusted front's own ``X-Forwarded-For`` is kept; the routing cookie is kept too (the
    process ignores it).
    """
    trusted = trusted_peer and any(k == b"x-forwarded-for" for k, _ in headers)
    kept = headers if trusted else [(k, v) for k, v in headers if k not in _FORWARDING]
    if not trusted:
        kept.append((b"x-forwarded-for", client.encode("latin-1")))
    return first + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in kept) + b"\r\n"


def _set_cookie(worker: int) -> bytes:
    return f"Set-Cookie: {COOKIE}={worker}; Path=/; HttpOnly; SameSite=Lax\r\n".encode()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int | None) -> bool:
    """Copy ``n`` bytes (None: until the end) from ``reader`` to ``writer``; False if cut."""
    try:
        while n is None or n > 0:
            data = await reader.read(_CHUNK if n is None else min(n, _CHUNK))
            if not data:
                return n is None
            writer.write(data)
            await writer.drain()
            if n is not None:
                n -= len(data)
    except ConnectionError:
        return False
    return True


async def _answer(
    writer: asyncio.StreamWriter, status: int, body: bytes, *, html: bool = False
) -> None:
    reason = {400: "Bad Request", 431: "Request Header Fields Too Large", 502: "Bad Gateway"}
    kind = b"text/html; charset=utf-8" if html else b"text/plain; charset=utf-8"
    writer.write(
        f"HTTP/1.1 {status} {reason.get(status, '')}\r\n".encode()
        + b"Content-Type: "
        + kind
        + b"\r\n"
        + b"Retry-After: 5\r\n" * (status == 502)
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()


def _default_unavailable() -> bytes:
    """Return a page in every language of the app: the process of this browser is down."""
    from html import escape

    from review_app._i18n import LANGS, t

    paragraphs = "".join(f'<p lang="{x}">{escape(t(x, "worker_unavailable"))}</p>' for x in LANGS)
    title = escape(t(LANGS[0], "title"))
    style = "<style>body{font-family:system-ui,sans-serif;margin:2em;font-size:1.1em}</style>"
    return (
        f'<!doctype html><meta charset="utf-8"><title>{title}</title>{style}{paragraphs}'.encode()
    )
