"""The review policy is stated once, and agrees with the flag rule and with escalation."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from risk import Capacity
from risk._flags import TIERS, assign_tiers
from risk.review import (
    AWAITING,
    DECISIONS,
    OUTREACH,
    QUEUED_TIERS,
    STATUSES,
    TIER_ORDER,
    overdue_cutoff,
    past_sla,
    working_days,
)


def test_queued_tiers_are_the_tiers_the_flag_rule_gives_flagged_families() -> None:
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(
        {
            "family_id": [f"f{i}" for i in range(300)],
            "district": rng.choice(["a", "b", "c"], 300),
            "score": rng.uniform(0, 1, 300),
        }
    )
    out = assign_tiers(scores, Capacity(default=40, min_score=0.2))
    assert set(out.loc[out["flagged"], "tier"]) == set(QUEUED_TIERS)
    assert not set(out.loc[~out["flagged"], "tier"]) & set(QUEUED_TIERS)
    assert TIER_ORDER is TIERS


def test_codes_fit_together() -> None:
    assert set(AWAITING) < set(STATUSES)
    assert set(OUTREACH) < set(DECISIONS)


def test_the_overdue_cutoff_agrees_with_counting_working_days() -> None:
    now = datetime(2025, 6, 20, 15)
    holidays = [date(2025, 6, 12)]
    created = pd.date_range("2025-05-01", "2025-06-20", freq="7h").to_pydatetime().tolist()
    for sla in (1, 3, 10):
        late = past_sla(working_days(created, now, holidays), sla)
        cutoff = overdue_cutoff(now, sla, holidays)
        assert late.tolist() == [c < cutoff for c in created]
