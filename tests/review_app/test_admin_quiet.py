"""No public share link and no noise: GRADIO_SHARE is ignored, Gradio's hints are not printed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from risk.commands import quiet_libraries
from risk.review import ReviewQueue


def test_serve_never_opens_a_share_link_even_if_gradio_share_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from review_app import serve

    monkeypatch.setenv("GRADIO_SHARE", "True")
    queue = ReviewQueue(f"sqlite:///{tmp_path / 'review.db'}")
    app, url = serve(queue, host="127.0.0.1", port=0, block=False, quiet=False)
    try:
        assert app.share is False and app.share_url is None
        assert url.startswith("http://127.0.0.1:")
    finally:
        app.close()
        queue.close()
    out = capsys.readouterr().out
    assert "share=True" not in out and "public" not in out
    assert out.splitlines()[0] == f"* Running on local URL:  {url}"


def test_quiet_libraries_keeps_info_lines_out_but_not_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL", raising=False)
    for name in ("mlflow", "alembic", "httpx", "gradio"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.INFO)
    quiet_libraries()
    import os

    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "WARNING"
    for name in ("mlflow", "alembic", "httpx", "gradio"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO) and logger.isEnabledFor(logging.WARNING)
