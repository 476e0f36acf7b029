"""The review app served by several processes behind one address (``serve(workers=N)``).

One Python process runs one thread of the app's code at a time, so on its own it uses one core
however many specialists wait. With ``workers=N`` the app runs in N processes, each on a
loopback port of its own over the same review store, and a :class:`~review_app._proxy.StickyProxy`
in the serving process keeps each browser with one of them (Gradio holds a browser's login and
page state in the process that served it).

What stays the same: every process enforces the same rules over the same store (the store
serialises writes and the audit chain across processes). What is per process: the login
throttle by address (an address may try up to N times the throttle's failures in its window;
the per-user lockout is in the store and unchanged) and the login of each browser (a process
that is restarted forgets the logins it held: its browsers sign in again).

A process that exits is started again on its port; its browsers see a page asking them to
reload meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

from review_app._proxy import StickyProxy
from risk import UnavailableError
from risk.review import AddressThrottle, LoginPolicy, ReviewQueue

#: Seconds a process may take to start (import Gradio, build the app, listen).
START_TIMEOUT_S = 300.0
#: Seconds between checks that every process is alive.
WATCH_EVERY_S = 0.5


#: ``review_app.serve``: serves the app in one process and returns ``(app, url)``.
Launch = Callable[..., tuple[Any, str]]

#: Most processes ``default_workers`` picks (each holds its own copy of the app).
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """One process per CPU core this process may use, at most :data:`MAX_DEFAULT_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_WORKERS, cores))


@dataclass(frozen=True)
class WorkerSpec:
    """What each process serves: the store and ``serve``'s options (all picklable)."""

    store_url: str
    connect_timeout: float
    lock_timeout: float
    login_policy: LoginPolicy
    options: dict[str, Any]
    #: ``(max_failures, window_s, max_addresses)`` of the login throttle by address.
    throttle: tuple[int, float, int]
    #: The serving process's region defaults (working calendar, review deadlines, districts).
    defaults: dict[str, Any] = field(default_factory=dict)


def spec_for(
    queue: ReviewQueue, options: dict[str, Any], throttle: AddressThrottle | None
) -> WorkerSpec:
    """Describe processes that serve ``queue`` as ``serve(queue, **options)`` would."""
    t = throttle or AddressThrottle()
    return WorkerSpec(
        store_url=queue.url,
        connect_timeout=queue.connect_timeout,
        lock_timeout=queue.lock_timeout,
        login_policy=queue.login_policy,
        options=options,
        throttle=(t.max_failures, t.window_s, t.max_addresses),
        defaults=_region_defaults(),
    )


def _region_defaults() -> dict[str, Any]:
    from review_app._admin import Administration
    from review_app._service import ReviewService

    return {
        "calendar": ReviewService.default_calendar,
        "sla": ReviewService.default_sla_working_days,
        "first_contact": ReviewService.first_contact_working_days,
        "districts": Administration.default_districts,
    }


def _apply_region_defaults(defaults: dict[str, Any]) -> None:
    from review_app._admin import Administration
    from review_app._service import ReviewService

    if defaults:
        ReviewService.default_calendar = defaults["calendar"]
        ReviewService.default_sla_working_days = defaults["sla"]
        ReviewService.first_contact_working_days = defaults["first_contact"]
        Administration.default_districts = defaults["districts"]


def _serve_one(spec: WorkerSpec, launch: Launch, index: int, port: int, ready: Any) -> None:
    """Serve the app on ``127.0.0.1:port`` in a worker process until stopped or orphaned.

    ``launch`` is ``review_app.serve`` itself, serving one process.

    It stops on SIGTERM (what :meth:`Workers.close` sends) or when the serving process is gone;
    it ignores Ctrl+C, which the serving process handles for all. A signal, not a shared lock:
    a process killed while waiting on a shared lock would leave it held.
    """
    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl+C in a terminal reaches every process of the group: the serving process decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _apply_region_defaults(spec.defaults)
        queue = ReviewQueue(
            spec.store_url,
            connect_timeout=spec.connect_timeout,
            lock_timeout=spec.lock_timeout,
            login_policy=spec.login_policy,
        )
        max_failures, window_s, max_addresses = spec.throttle
        throttle = AddressThrottle(max_failures, window_s, max_addresses=max_addresses)
        app, _ = launch(
            queue,
            host="127.0.0.1",
            port=port,
            block=False,
            quiet=True,
            login_throttle=throttle,
            **spec.options,
        )
    except BaseException as exc:
        ready.put((index, f"{type(exc).__name__}: {exc}"))
        raise
    ready.put((index, None))
    # Stop with the serving process, even if it was killed without a word.
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    app.close(verbose=False)
    queue.close()


class Workers:
    """N processes serving the app behind one address; see the module's docstring.

    Parameters
    ----------
    spec : WorkerSpec
        What each process serves.
    n : int
        How many processes (at least 2).
    host, port : str, int
        Where the browsers connect.
    launch : callable
        Serves the app in one process: ``review_app.serve`` (passed in, so that this module
        does not import the one that uses it).
    """

    def __init__(self, spec: WorkerSpec, n: int, host: str, port: int, launch: Launch) -> None:
        if n < 2:
            raise ValueError(f"Workers needs at least 2 processes; got {n}")
        self.spec = spec
        self.launch = launch
        self.host, self.port = host, port
        self.ports = [free_port("127.0.0.1") for _ in range(n)]
        self._context = multiprocessing.get_context("spawn")
        self._ready = self._context.Queue()
        self._processes: list[Any] = [None] * n
        self._closing = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._watch: threading.Thread | None = None
        self._proxy_error: OSError | None = None
        self._serve = threading.Event()
        self._stopping: asyncio.Event | None = None
        self.proxy = StickyProxy([("127.0.0.1", p) for p in self.ports])
        #: How many times a process was started again after it exited.
        self.restarts = 0

    @property
    def url(self) -> str:
        """The address browsers open."""
        return f"http://{self.host}:{self.port}/"

    @property
    def pids(self) -> list[int]:
        """The processes' ids (the serving process's own is :func:`os.getpid`)."""
        return [int(p.pid) for p in self._processes if p is not None and p.pid is not None]

    def start(self) -> str:
        """Start the processes (in parallel) and the proxy in a thread; return the URL.

        The address is taken first (a taken port fails at once), and served once every process
        is ready.

        Raises
        ------
        RuntimeError
            A process failed to start (its error is named) or took over ``START_TIMEOUT_S``.
        risk.UnavailableError
            The address cannot be listened on (the port is taken, say); nothing is left running.
        """
        try:
            bound = threading.Event()
            self._thread = threading.Thread(
                target=self._run_proxy, args=(bound,), name="review-proxy", daemon=True
            )
            self._thread.start()
            if not bound.wait(START_TIMEOUT_S):
                raise RuntimeError("the review app's proxy did not start")
            if self._proxy_error is not None:
                raise UnavailableError(
                    f"cannot serve the review app on {self.host}:{self.port}: "
                    f"{self._proxy_error.strerror or self._proxy_error} (another program may "
                    "be using the port: choose another with --port)"
                )
            for i in range(len(self.ports)):
                self._start_process(i)
            self._await_ready(set(range(len(self.ports))))
            self._serve.set()
        except BaseException:
            self.close()
            raise
        self._watch = threading.Thread(target=self._keep_alive, name="review-watch", daemon=True)
        self._watch.start()
        return self.url

    def _start_process(self, i: int) -> None:
        p = self._context.Process(
            target=_serve_one,
            args=(self.spec, self.launch, i, self.ports[i], self._ready),
            name=f"review-app-{i}",
            daemon=True,
        )
        p.start()
        self._processes[i] = p

    def _await_ready(self, waiting: set[int]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(
                    f"review app processes {sorted(waiting)} did not start in "
                    f"{START_TIMEOUT_S:.0f} s"
                )
            try:
                index, error = self._ready.get(timeout=min(left, 1.0))
            except Empty:  # none yet: check the processes are alive
                for i in waiting:
                    p = self._processes[i]
                    if p is not None and not p.is_alive():
                        raise RuntimeError(
                            f"review app process {i} exited with code {p.exitcode} "
                            "before it started serving"
                        ) from None
                continue
            if error is not None:
                raise RuntimeError(f"review app process {index} failed to start: {error}")
            waiting.discard(index)

    def _run_proxy(self, bound: threading.Event) -> None:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            self._loop = runner.get_loop()
            try:
                server = runner.run(self.proxy.start(self.host, self.port, serving=False))
            except OSError as exc:
                self._proxy_error = exc
                bound.set()
                return
            self.port = int(server.sockets[0].getsockname()[1])
            bound.set()
            self._serve.wait()  # every process ready (or closing)
            runner.run(self._serve_until_closed(server))

    async def _serve_until_closed(self, server: asyncio.Server) -> None:
        self._stopping = asyncio.Event()
        # Set before this check by close(), or set by close() after it: never missed.
        if self._closing.is_set():
            server.close()
            return
        async with server:
            await server.start_serving()
            await self._stopping.wait()
        # Connections still open are cancelled as the loop closes; each ends quietly.

    def _keep_alive(self) -> None:
        """Start again any process that exited while the app is up."""
        while not self._closing.wait(WATCH_EVERY_S):
            for i, p in enumerate(self._processes):
                if p is None or p.is_alive() or self._closing.is_set():
                    continue
                print(
                    f"review app process {i} (pid {p.pid}) exited with code {p.exitcode}; "
                    "starting it again (its browsers sign in again)",
                    file=sys.stderr,
                    flush=True,
                )
                self.restarts += 1
                self._start_process(i)
                try:
                    self._await_ready({i})
                except RuntimeError as exc:
                    if not self._closing.is_set():  # stopped while starting: not a failure
                        print(f"review app process {i}: {exc}", file=sys.stderr, flush=True)

    def serve_forever(self) -> None:
        """Block until interrupted (Ctrl+C or SIGTERM), then stop everything."""

        def interrupt(*_: object) -> None:
            raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, interrupt)
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(1.0)
        except KeyboardInterrupt:
            print("stopping the review app", file=sys.stderr, flush=True)
        finally:
            self.close()

    def close(self, verbose: bool = False) -> None:  # noqa: ARG002 - as gradio.Blocks.close
        """Stop the proxy and the processes."""
        self._closing.set()
        self._serve.set()
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(10)
        running = [p for p in self._processes if p is not None and p.is_alive()]
        for p in running:
            p.terminate()  # SIGTERM: the process closes its app and store
        for p in running:
            p.join(15)
            if p.is_alive():
                p.kill()
                p.join(5)


def _loop_factory() -> Any:
    """Uvloop's event loop where it is installed (faster), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def free_port(host: str) -> int:
    """Return a port free on ``host`` now (the OS picks it)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
