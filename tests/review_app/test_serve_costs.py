"""What ``serve`` does to keep the served process's cost per action down (bench/bench_office.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gradio.state_holder import SessionState

from review_app import build_app
from review_app._serve import (
    ANALYTICS_EVERY,
    cache_component_signatures,
    quiet_analytics,
)
from risk.review import ReviewQueue


def test_remembered_signatures_give_gradio_the_same_page_configs(tmp_path: Path) -> None:
    import gradio.blocks as blocks

    queue = ReviewQueue(f"sqlite:///{tmp_path / 'review.db'}")
    queue.migrate()
    try:
        app = build_app(queue)
        original = blocks.inspect
        try:
            import inspect

            blocks.inspect = inspect  # type: ignore[attr-defined]
            plain = SessionState(app).config_values
            cache_component_signatures()
            assert blocks.inspect is not inspect
            assert blocks.inspect.getmembers is inspect.getmembers
            cached = SessionState(app).config_values
            again = SessionState(app).config_values
        finally:
            blocks.inspect = original  # type: ignore[attr-defined]
        assert plain == cached == again
        assert len(plain) > 100  # the whole page, both tabs
    finally:
        queue.close()


def test_unhashable_and_parametrised_lookups_still_answer() -> None:
    import inspect

    import gradio.blocks as blocks

    cache_component_signatures()

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, a: int, b: str = "x") -> None: ...

    sig = blocks.inspect.signature(Unhashable())
    assert list(sig.parameters) == ["a", "b"]
    assert blocks.inspect.signature(len, follow_wrapped=False) == inspect.signature(len)


def test_warm_up_pays_the_first_events_imports_before_anyone_waits() -> None:
    # In a fresh interpreter: this one has imported everything already.
    code = (
        "import sys\n"
        "from review_app._serve import warm_up\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "warm_up()\n"
        "assert 'matplotlib.pyplot' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_gradio_analytics_are_recomputed_seldom(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    monkeypatch.delenv("GRADIO_ANALYTICS_MAX_EVENTS", raising=False)
    queue = ReviewQueue(f"sqlite:///{tmp_path / 'review.db'}")
    queue.migrate()
    try:
        app = build_app(queue)
        app.queue()
        quiet_analytics(app)
        assert app._queue.ANAYLTICS_CACHE_FREQUENCY == ANALYTICS_EVERY
        assert app._queue.ANALYTICS_MAX_EVENTS == ANALYTICS_EVERY
    finally:
        queue.close()
