"""Fixtures of the review app tests: a real screening of the synthetic sample, a live server.

``screening`` is ``risk.Screener`` with a small model trained on the committed sample (a few
seconds): what the store, the card tests, the browser tests and the screenshots show.
``fake_screening`` is the cheap stand-in that ``bench/bench_review.py`` scales up.

The server runs the real app on 127.0.0.1 with a free port, in this process (Gradio's own
server thread), and is closed after the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from risk.review import ScreeningLike
from tests.review_app.review_app_fakes import (
    FakeScreening,
    Served,
    load_sample,
    make_queue,
    make_real_screening,
    make_screening,
)


@pytest.fixture(scope="session")
def records():
    return load_sample()


@pytest.fixture(scope="session")
def screening(records) -> ScreeningLike:
    return make_real_screening(records, capacity=12)


@pytest.fixture(scope="session")
def fake_screening(records) -> FakeScreening:
    return make_screening(records, capacity=12)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, screening: ScreeningLike) -> Iterator[Served]:
    from review_app import serve

    queue = make_queue(tmp_path_factory.mktemp("review") / "review.db", screening)
    app, url = serve(queue, host="127.0.0.1", port=0, lang="ru", block=False, quiet=True)
    try:
        yield Served(queue=queue, url=url)
    finally:
        app.close()
        queue.close()
