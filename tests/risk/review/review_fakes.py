"""A stand-in for ``risk.Screener.screen``'s result, satisfying ``risk.review.ScreeningLike``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DISTRICTS = ("north", "south", "east")


@dataclass(frozen=True)
class FakeScreening:
    scores: pd.DataFrame
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def flag_payloads(self) -> dict[str, dict[str, Any]]:
        return dict(self.payloads)


def make_screening(
    n_families: int,
    n_flagged: int,
    *,
    seed: int = 0,
    prefix: str = "f",
    districts: tuple[str, ...] = DISTRICTS,
    payload_size: int = 3,
) -> FakeScreening:
    """``n_families`` scored families, the ``n_flagged`` highest flagged (tier priority)."""
    rng = np.random.default_rng(seed)
    score = np.sort(rng.uniform(0.01, 0.99, n_families))[::-1]
    fam = [f"{prefix}{i:06d}" for i in range(n_families)]
    district = [districts[i % len(districts)] for i in range(n_families)]
    flagged = np.arange(n_families) < n_flagged
    tier = np.where(
        flagged, "priority", np.where(np.arange(n_families) < 2 * n_flagged, "support", "universal")
    )
    scores = pd.DataFrame(
        {
            "family_id": pd.Series(fam, dtype="str"),
            "district": pd.Series(district, dtype="str"),
            "score": score,
            "log_odds": np.log(score / (1 - score)),
            "tier": tier,
            "flagged": flagged,
            "rank_in_district": pd.Series(district)
            .groupby(pd.Series(district))
            .cumcount()
            .to_numpy()
            + 1,
            "model_version": "family_distress@3",
            "as_of": pd.Timestamp("2025-06-30"),
            "advisory": "Advisory only: a person decides.",
        }
    )
    payloads = {
        f: {
            "explanation": [
                {"feature": f"feat_{k}", "contribution": 0.1 * k} for k in range(payload_size)
            ],
            "needs": ["material", "health_disability"],
            "services": [{"id": "svc-1", "name": "Соцработник на дом"}],
        }
        for f in np.asarray(fam)[flagged].tolist()
    }
    return FakeScreening(scores=scores, payloads=payloads)
