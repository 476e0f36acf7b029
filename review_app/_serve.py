"""Launching the app: authentication by the review queue's users, loopback by default.

Around Gradio's own routes the served app adds one guard (:class:`RequestGuard`): requests
from another origin are refused (Gradio would answer any localhost origin with credentials),
a session's events are readable only by the user who started it, refused (401) requests are
audited, and each login's client address is known to the password check, which runs in a
worker thread (the slow hash and its database write never hold up Gradio's event loop).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from review_app._auth import LOGIN_CLIENT
from review_app._i18n import LANGS, check_lang, t
from review_app._login import DEFAULT_MAX_LOGIN_AGE, AgedLoginService, LoginAges, make_aged_auth
from review_app._workers import free_port
from risk.review import AddressThrottle, ReviewQueue, StoreUnavailable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Gradio routes that carry a session hash (in the body, the query or the path).
_SESSION_ROUTES = re.compile(
    r"/gradio_api/(?:(?P<body>queue/join|cancel)|queue/data|heartbeat/(?P<path>[^/]+))/?$"
)
#: Sessions remembered per user; a user's oldest are forgotten beyond this.
MAX_SESSIONS_PER_USER = 1000
#: Longest request body read to find a session hash (Gradio's event bodies are small).
_MAX_EVENT_BODY = 1_000_000


class SessionOwners:
    """Which user started each Gradio session (by session hash), bounded per user.

    Examples
    --------
    >>> owners = SessionOwners()
    >>> owners.claim("abc", "anna"), owners.claim("abc", "boris"), owners.claim("abc", "anna")
    (True, False, True)
    """

    def __init__(self, per_user: int = MAX_SESSIONS_PER_USER) -> None:
        self.per_user = per_user
        self._owner: dict[str, str] = {}
        self._by_user: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def claim(self, session_hash: str, user: str) -> bool:
        """Record ``user`` as the owner of a new session; False if another user owns it."""
        with self._lock:
            owner = self._owner.get(session_hash)
            if owner is not None:
                return owner == user
            self._owner[session_hash] = user
            mine = self._by_user.setdefault(user, deque())
            mine.append(session_hash)
            if len(mine) > self.per_user:
                self._owner.pop(mine.popleft(), None)
            return True


class RequestGuard:
    """ASGI middleware of the served app (see the module's docstring).

    Parameters
    ----------
    app : ASGI app
        Gradio's app.
    queue : ReviewQueue
        Where refusals are audited.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], queue: ReviewQueue):
        self.app = app
        self.queue = queue
        self.owners = SessionOwners()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = str(scope.get("path", ""))
        client = scope["client"][0] if scope.get("client") else None
        origin = headers.get("origin")
        where = f"request {path[:100]} from {client or '?'}"
        if origin is not None and not _same_origin(origin, headers.get("host", "")):
            await self._audit(_user_of(scope, headers.get("cookie", "")), where, "foreign origin")
            await _refuse(send, 403, "requests from another origin are refused")
            return
        found = _SESSION_ROUTES.search(path)
        if found is not None:
            user = _user_of(scope, headers.get("cookie", ""))
            if user is not None:
                session_hash: str | None
                if found.group("body"):
                    body, receive = await _read_body(receive)
                    session_hash = _json_field(body, "session_hash")
                elif found.group("path"):
                    session_hash = found.group("path")
                else:
                    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                    session_hash = (query.get("session_hash") or [None])[0]
                if session_hash and not self.owners.claim(session_hash, user):
                    await self._audit(user, where, "session of another user")
                    await _refuse(send, 403, "this session belongs to another user")
                    return
        token = LOGIN_CLIENT.set(client)
        statuses: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message.get("status", 0)))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            LOGIN_CLIENT.reset(token)
        if statuses and statuses[0] == 401:
            # Audited once the response is out, so the refusal costs the caller no time.
            await self._audit(None, where, "not logged in")

    async def _audit(self, actor: str | None, doing: str, reason: str) -> None:
        import anyio

        # The refusal stands even when it cannot be audited: an unreachable store refuses
        # every other request too.
        with contextlib.suppress(StoreUnavailable):
            await anyio.to_thread.run_sync(
                self.queue.log_refusal, actor or "anonymous", doing, reason
            )


def _same_origin(origin: str, host: str) -> bool:
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


def _user_of(scope: Scope, cookie_header: str) -> str | None:
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return None
    for key in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if key in cookies and cookies[key].value in tokens:
            return str(tokens[cookies[key].value])
    return None


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the request body and return it with a ``receive`` that replays it."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= _MAX_EVENT_BODY:
            chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks) if size <= _MAX_EVENT_BODY else b""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _json_field(body: bytes, name: str) -> str | None:
    try:
        value = json.loads(body).get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: Seconds a failed login waits before its answer (asleep: it costs the server nothing).
FAILED_LOGIN_DELAY_S = 1.0


def threaded_auth(
    auth: Callable[..., bool],
    *,
    concurrent: int = 1,
    failure_delay: float = FAILED_LOGIN_DELAY_S,
) -> Callable[[str, str], Awaitable[bool]]:
    """Wrap a blocking ``auth`` so that Gradio awaits it in a worker thread.

    At most ``concurrent`` password checks run at once: a flood of logins costs at most that
    many cores and never blocks the event loop every other request is served from. A failed
    login is answered after ``failure_delay`` seconds, so each connection of a flood makes at
    most about one attempt per second.
    """
    import anyio

    limiter = anyio.CapacityLimiter(concurrent)

    async def checked(username: str, password: str) -> bool:
        client = LOGIN_CLIENT.get()
        ok = bool(
            await anyio.to_thread.run_sync(
                lambda: auth(username, password, client), limiter=limiter
            )
        )
        if not ok:
            await anyio.sleep(failure_delay)
        return ok

    return checked


def serve(
    queue: ReviewQueue,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    lang: str = "ru",
    catalog: Any = None,
    model_uri: str | None = None,
    block: bool = True,
    quiet: bool = False,
    max_login_age: timedelta = DEFAULT_MAX_LOGIN_AGE,
    login_throttle: AddressThrottle | None = None,
    notice: str | None = None,
    region: Any = None,
    workers: int = 1,
) -> tuple[Any, str]:
    """Build the app over ``queue`` and serve it with login by the queue's users.

    Parameters
    ----------
    queue : ReviewQueue
        The review queue.
    host, port : str, int
        Where to listen (loopback by default; port 0 picks a free one).
    lang : {"ru", "en"}
        Language of a page whose address and browser ask for neither Russian nor English.
    catalog : risk services catalog, optional
        See :func:`review_app.build_app`.
    model_uri : str, optional
        Shown in the header.
    block : bool
        Serve until interrupted (True) or return at once with the server running (False).
    quiet : bool
        Print nothing on start.
    max_login_age : timedelta
        Requests of a login older than this are refused and audited (default 8 hours).
    login_throttle : AddressThrottle, optional
        Failed logins per client address (default: 20 in 10 minutes, then refused).
    notice : str, optional
        Shown at the top of every page (see :func:`review_app.build_app`).
    region : risk.regions.RegionPack, optional
        The region served (district names, default catalog); default the default pack.
    workers : int
        Processes serving the app (default 1). With more, each browser is kept with one
        process by a cookie, and the app uses as many cores (see :mod:`review_app._workers`);
        the store must be one they can share (a SQLite file or PostgreSQL).

    Returns
    -------
    (gradio.Blocks or review_app._workers.Workers, str)
        The running app (``close()`` it to stop a non-blocking server) and its URL.

    Raises
    ------
    ValueError
        ``workers`` is below 1, or above 1 over an in-memory SQLite store.
    """
    import gradio as gr
    from starlette.middleware import Middleware

    from review_app._app import CSS, build_app

    first = check_lang(lang)
    if workers < 1:
        raise ValueError(f"workers must be 1 or more; got {workers}")
    if workers > 1:
        return _serve_workers(
            queue,
            workers,
            host=host,
            port=port,
            block=block,
            quiet=quiet,
            login_throttle=login_throttle,
            options={
                "lang": first,
                "catalog": catalog,
                "model_uri": model_uri,
                "max_login_age": max_login_age,
                "notice": notice,
                "region": region,
            },
        )
    ages = LoginAges(queue, max_login_age)
    service = AgedLoginService(queue, ages)
    app = build_app(
        queue,
        lang=first,
        catalog=catalog,
        model_uri=model_uri,
        service=service,
        notice=notice,
        region=region,
    )
    app.queue(default_concurrency_limit=16)
    quiet_analytics(app)
    cache_component_signatures()
    warm_up()
    message = "<br>".join(t(x, "banner") for x in (first, *(x for x in LANGS if x != first)))
    message = message.replace("**", "")
    _, url, _ = app.launch(
        server_name=host,
        server_port=port or free_port(host),
        # Gradio awaits a coroutine function (routes.py, login) though its hint says sync.
        auth=threaded_auth(  # type: ignore[arg-type]
            make_aged_auth(queue, ages, throttle=login_throttle or AddressThrottle())
        ),
        app_kwargs={"middleware": [Middleware(RequestGuard, queue=queue)]},
        auth_message=message,
        prevent_thread_lock=not block,
        # Families' data: never a public share link, whatever GRADIO_SHARE says (an explicit
        # False wins over it), and no start text suggesting one (the URL is printed below).
        share=False,
        quiet=True,
        show_error=True,
        ssr_mode=False,
        footer_links=[],
        theme=gr.themes.Soft(font=_FONTS, font_mono=_MONO),
        css=CSS,
    )
    if not quiet:
        print(f"* Running on local URL:  {url}")
    return app, url


def _serve_workers(
    queue: ReviewQueue,
    n: int,
    *,
    host: str,
    port: int,
    block: bool,
    quiet: bool,
    login_throttle: AddressThrottle | None,
    options: dict[str, Any],
) -> tuple[Any, str]:
    """``serve`` with ``n`` processes behind a sticky proxy on ``host:port``."""
    from review_app._workers import Workers, spec_for

    if queue.in_memory:
        raise ValueError(
            f"workers={n} needs a store the processes can share (a SQLite file or PostgreSQL); "
            "this one is SQLite in memory"
        )
    served = Workers(spec_for(queue, options, login_throttle), n, host, port, launch=serve)
    address = served.start()
    if not quiet:
        print(f"* Running on local URL:  {address} ({n} processes)")
    if block:
        served.serve_forever()
    return served, address


# System fonts only: specialists' machines may have no internet (no web fonts), and these
# cover Cyrillic well.
_FONTS = ("system-ui", "Segoe UI", "Roboto", "DejaVu Sans", "Arial", "sans-serif")
_MONO = ("DejaVu Sans Mono", "Consolas", "monospace")


def cache_component_signatures() -> None:
    """Let Gradio read each component class's signature once per process, not per update.

    For every output of every event, and for all 295 blocks of each new page session, Gradio
    rebuilds the component's config, reading the signature of its class's ``__init__`` with
    ``inspect.signature`` each time (``Block.get_config``): profiled at a third of the served
    process's time during a burst of logins. Signatures of classes do not change while the
    process runs, so ``gradio.blocks`` is given an ``inspect`` whose ``signature`` remembers
    them; every other name is the standard module's. Measured one action at a time, this cuts
    the server's CPU per action by about a tenth and per new session by about 25 ms.
    """
    import inspect
    import types

    import gradio.blocks as blocks

    if getattr(blocks.inspect, "cached_signatures", False):
        return
    cached = types.ModuleType("inspect")
    cached.__dict__.update(inspect.__dict__)
    cached.signature = _remembered_signature  # type: ignore[attr-defined]
    cached.cached_signatures = True  # type: ignore[attr-defined]
    blocks.inspect = cached


@functools.lru_cache(maxsize=1024)
def _signature(obj: Any) -> Any:
    import inspect

    return inspect.signature(obj)


def _remembered_signature(obj: Any, *args: Any, **kwargs: Any) -> Any:
    import inspect

    if args or kwargs:
        return inspect.signature(obj, *args, **kwargs)
    try:
        return _signature(obj)
    except TypeError:  # not hashable: nothing to remember it by
        return inspect.signature(obj)


def warm_up() -> None:
    """Pay a process's one-time costs before the first person would wait for them.

    Profiled on the first event a fresh process serves (700 ms against 40 ms for the next):
    Gradio enters its matplotlib backend guard on every event, and the first entry imports
    matplotlib and pyplot; Babel reads each language's CLDR data on first use.
    """
    from datetime import UTC, datetime

    from gradio.utils import MatplotlibBackendMananger  # sic: Gradio's spelling

    from review_app._i18n import count, month_label, number, percent, when

    with MatplotlibBackendMananger():
        pass
    now = datetime.now(UTC)
    for lang in LANGS:
        number(12500.5, lang, 1), percent(0.05, lang), count(3, "working_days", lang)
        when(now, lang), month_label(now.date(), lang)


#: Gradio's per-event analytics: recomputed once per this many events, over at most as many.
ANALYTICS_EVERY = 1000


def quiet_analytics(app: Any) -> None:
    """Make Gradio's event analytics cheap: recomputed every 1,000 events, not after each.

    After every event Gradio's queue rebuilds a pandas summary (per function: success rate,
    percentiles of processing time) of up to 10,000 past events, for a monitoring page this
    app does not offer. In a busy office that cost grew with the events served until it
    matched the handlers' own (profiled: ``Queue.compute_analytics_summary``). The settings
    are Gradio's ``GRADIO_ANALYTICS_CACHE_FREQUENCY`` and ``GRADIO_ANALYTICS_MAX_EVENTS``, set
    here on this app's queue only (the environment wins where it sets them).
    """
    import os

    queue = app._queue
    if "GRADIO_ANALYTICS_CACHE_FREQUENCY" not in os.environ:
        queue.ANAYLTICS_CACHE_FREQUENCY = ANALYTICS_EVERY  # sic: Gradio's spelling
    if "GRADIO_ANALYTICS_MAX_EVENTS" not in os.environ:
        queue.ANALYTICS_MAX_EVENTS = ANALYTICS_EVERY
