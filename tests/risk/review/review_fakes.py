"""A stand-in for ``risk.Screener.screen``'s result, satisfying ``risk.review.ScreeningLike``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from risk import FlagPayload, example_payload, validate_payload

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
        f: _payload(f, d, payload_size)
        for f, d, is_flagged in zip(fam, district, flagged.tolist(), strict=True)
        if is_flagged
    }
    return FakeScreening(scores=scores, payloads=payloads)


def _payload(family_id: str, district: str, size: int) -> FlagPayload:
    """A valid flag payload with ``size`` contributions, two needs and one service."""
    payload = example_payload(family_id, district=district)
    payload["contributions"] = [
        {"feature": f"feat_{k}", "value": float(k), "contribution": 0.1 * k, "domain": "material",
         "unit": "count", "description_ru": f"признак {k}", "description_en": f"feature {k}"}
        for k in range(size)
    ]  # fmt: skip
    payload["needs"] = ["material", "health_disability"]
    payload["services"] = [
        {"service_id": "svc-1", "name_ru": "Соцработник на дом", "name_en": "Home social worker",
         "organisation_ru": "КЦСОН", "organisation_en": "Social service centre",
         "category": "social", "domains": ["material"], "relevance": 1.0}
    ]  # fmt: skip
    return validate_payload(payload)
