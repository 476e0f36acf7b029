"""A logged-in browser session over HTTP, speaking the page's own Gradio events.

What ``bench/bench_office.py`` drives by the hundred and what the tests of serving through
several processes use: the app's login route, then ``gradio_api/queue/join`` and the event
stream, exactly as the page does.
"""

from __future__ import annotations

import json
import uuid
from typing import Any


class Browser:
    """One logged-in browser session speaking Gradio's queue protocol over HTTP."""

    def __init__(self, url: str, user: str, password: str, fns: dict[str, int]) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.fns = fns
        self.session = uuid.uuid4().hex[:11]
        self.http = httpx.Client(timeout=120.0)
        r = self.http.post(f"{self.url}/login", data={"username": user, "password": password})
        r.raise_for_status()

    def call(self, fn: str, data: list[Any]) -> list[Any]:
        """Trigger the page event ``fn`` with ``data``; return its outputs (raise on error)."""
        body = {
            "data": data,
            "fn_index": self.fns[fn],
            "session_hash": self.session,
            "event_data": None,
            "trigger_id": None,
        }
        r = self.http.post(f"{self.url}/gradio_api/queue/join", json=body)
        r.raise_for_status()
        event_id = r.json()["event_id"]
        params = {"session_hash": self.session}
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data", params=params) as s:
            for line in s.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") != event_id or msg.get("msg") != "process_completed":
                    continue
                out = msg.get("output") or {}
                if not msg.get("success", False):
                    raise RuntimeError(str(out.get("error") or out))
                return list(out.get("data", []))
        raise RuntimeError(f"{fn}: the event stream ended without a result")

    @property
    def worker(self) -> str | None:
        """The process serving this session, by the proxy's cookie (None: one process)."""
        from review_app._proxy import COOKIE

        return self.http.cookies.get(COOKIE)

    def close(self) -> None:
        self.http.close()


def event_ids(app: Any) -> dict[str, int]:
    """Find the page's events by handler name (what the browser's page config tells it)."""
    wanted = {"show_queue": 4, "open_card": 1, "save_decision": 7, "supervisor_view": 0}
    found: dict[str, int] = {}
    for fn_id, block_fn in app.fns.items():
        name = getattr(block_fn.fn, "__name__", "")
        if name in wanted and len(block_fn.inputs) == wanted[name] and name not in found:
            found[name] = int(fn_id)
    missing = set(wanted) - set(found)
    if missing:
        raise RuntimeError(f"page events not found: {sorted(missing)}")
    return found
