"""Fixtures of the review app tests: a store filled from the synthetic sample, a live server.

The server runs the real app on 127.0.0.1 with a free port, in this process (Gradio's own
server thread), and is closed after the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from review_app_fakes import FakeScreening, load_sample, make_screening

from risk.review import ReviewQueue

#: name -> (password, role, districts)
USERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "anna": ("anna-password-1", "specialist", ("velikiy_novgorod", "valdaysky")),
    "alla": ("alla-password-1", "specialist", ("velikiy_novgorod",)),
    "boris": ("boris-password-1", "specialist", ("borovichsky",)),
    "sveta": ("sveta-password-1", "supervisor", ("velikiy_novgorod", "valdaysky", "borovichsky")),
    "locked": ("locked-password", "specialist", ("borovichsky",)),
}


@pytest.fixture(scope="session")
def screening() -> FakeScreening:
    return make_screening(load_sample(), capacity=12)


def make_queue(path: Path, screening: FakeScreening) -> ReviewQueue:
    queue = ReviewQueue(f"sqlite:///{path}")
    queue.enqueue(screening, "run-2025-06")
    for name, (password, role, districts) in USERS.items():
        queue.add_user(name, password, role, districts)
    return queue


@dataclass(frozen=True)
class Served:
    queue: ReviewQueue
    url: str

    def client(self, user: str):  # type: ignore[no-untyped-def]
        from gradio_client import Client

        return Client(self.url, auth=(user, USERS[user][0]), verbose=False)


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
