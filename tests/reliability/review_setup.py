"""A review store filled by a real screening of a small synthetic population, and its users."""

from __future__ import annotations

from pathlib import Path

from risk import Screener
from risk._model import Capacity, RiskModel
from risk.review import ReviewQueue
from tests.reliability.records_fuzz import population, train_tiny_model

RUN_ID = "reliability-run"


def fill_store(url: str, workdir: Path, capacity: int = 6) -> dict[str, tuple[str, str, str]]:
    """Enqueue a screening of 200 families and add two specialists of different districts.

    Returns name -> (password, role, district).
    """
    from dataclasses import replace

    from risk.synth import generate

    records, _ = generate(200, seed=5)
    model = RiskModel.load(train_tiny_model(workdir / "model"))
    model = replace(model, capacity=Capacity(default=capacity, min_score=0.0))
    screening = Screener(model).screen(records, "2025-06-30")
    queue = ReviewQueue(url)
    try:
        queue.enqueue(screening, RUN_ID)
        items = queue.items(status="open")
        top = items["district"].value_counts().index[:2].tolist()
        users = {
            "anna": ("anna-correct-horse-1", "specialist", top[0]),
            "boris": ("boris-battery-staple-2", "specialist", top[1]),
        }
        for name, (password, role, district) in users.items():
            queue.add_user(name, password, role, [district])
    finally:
        queue.close()
    return users


__all__ = ["fill_store", "population"]
