"""Feed gaps: a source that goes silent or halves in a district where it normally reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import Records
from risk.ingest import GAP_RULE, feed_gaps

DISTRICT = "velikiy_novgorod"
SOURCE = "education"
SILENT = ["2024-03-01", "2024-04-01", "2024-05-01"]


def _months(ev: pd.DataFrame) -> list[str]:
    return [str(m) for m in pd.period_range("2020-07", "2025-12", freq="M")]


def _district(sample: Records) -> pd.Series:
    return sample.events["family_id"].map(sample.families.set_index("family_id")["district"])


def _cells(frame: pd.DataFrame) -> set[tuple]:
    return set(frame[["source", "district", "month", "kind"]].itertuples(index=False, name=None))


def test_a_source_removed_in_one_district_for_three_months_is_named(sample: Records) -> None:
    ev = sample.events
    month = ev["event_date"].dt.to_period("M").dt.to_timestamp()
    cut = (
        (ev["source"] == SOURCE)
        & (_district(sample) == DISTRICT)
        & month.isin(pd.to_datetime(SILENT))
    )
    assert cut.sum() > 100
    before = feed_gaps(ev, sample.families, months=_months(ev))
    after = feed_gaps(ev[~cut], sample.families, months=_months(ev))
    new = _cells(after) - _cells(before)
    assert new == {(SOURCE, DISTRICT, pd.Timestamp(m), "silent") for m in SILENT}
    assert _cells(before) <= _cells(after)
    rows = after[(after["source"] == SOURCE) & (after["district"] == DISTRICT)]
    assert (rows.loc[rows["kind"] == "silent", "observed"] == 0).all()


def test_expected_is_the_trailing_median(sample: Records) -> None:
    ev = sample.events
    month = ev["event_date"].dt.to_period("M")
    mine = (ev["source"] == SOURCE) & (_district(sample) == DISTRICT)
    keep = ~(mine & (month == pd.Period("2024-03", "M")))
    keep |= mine & (month == pd.Period("2024-03", "M")) & (np.arange(len(ev)) % 10 == 0)
    gaps = feed_gaps(ev[keep], sample.families, months=["2024-03-01"])
    row = gaps[(gaps["source"] == SOURCE) & (gaps["district"] == DISTRICT)].iloc[0]
    counts = month[mine].value_counts()
    trailing = [counts.get(p, 0) for p in pd.period_range("2023-09", "2024-02", freq="M")]
    assert row["kind"] == "drop"
    assert row["expected"] == pytest.approx(np.median(trailing))
    assert row["observed"] == int((keep & mine & (month == pd.Period("2024-03", "M"))).sum())


def test_a_district_with_few_rows_is_not_judged() -> None:
    fam = pd.DataFrame({"family_id": ["f1"], "district": ["a"]})
    dates = pd.date_range("2024-01-01", "2024-06-30", freq="10D")
    ev = pd.DataFrame({"family_id": "f1", "source": "police", "event_date": dates})
    assert feed_gaps(ev, fam, months=["2024-07-01"]).empty
    assert "median" in GAP_RULE
