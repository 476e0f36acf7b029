"""Fixtures of the review app tests: a store filled from the synthetic sample, a live server.

The server runs the real app on 127.0.0.1 with a free port, in this process (Gradio's own
server thread), and is closed after the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.review_app.review_app_fakes import (
    FakeScreening,
    Served,
    load_sample,
    make_queue,
    make_screening,
)


@pytest.fixture(scope="session")
def screening() -> FakeScreening:
    return make_screening(load_sample(), capacity=12)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, screening: FakeScreening) -> Iterator[Served]:
    from review_app import serve

    queue = make_queue(tmp_path_factory.mktemp("review") / "review.db", screening)
    app, url = serve(queue, host="127.0.0.1", port=0, lang="ru", block=False, quiet=True)
    try:
        yield Served(queue=queue, url=url)
    finally:
        app.close()
        queue.close()
