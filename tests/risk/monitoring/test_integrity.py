"""Input integrity: a source that goes silent or collapses in one district degrades the run."""

import numpy as np
import pandas as pd
import pytest

from features import SOURCES
from risk.monitoring import (
    INTEGRITY_COLUMNS,
    check_integrity,
    missing_sources_by_district,
    missing_sources_for,
    monthly_volumes,
    window_volumes,
)
from tests.risk.monitoring.conftest import AS_OF, without_source

NAMES = {"borovichsky": "Borovichsky district", "shimsky": "Shimsky district"}


def test_the_committed_sample_is_not_degraded(records, reference, model):
    report = check_integrity(records, AS_OF, reference=reference, lookback_days=model.lookback_days)
    assert not report.degraded and report.problems == ()
    assert list(report.table.columns) == list(INTEGRITY_COLUMNS)
    assert set(report.table["check"]) == {"reference", "trailing"}
    assert set(report.table["status"]) <= {"ok", "not judged"}


def test_a_source_missing_in_one_district_degrades_the_run_naming_both(records, reference, model):
    broken = without_source(records, "police", "borovichsky")
    report = check_integrity(
        broken, AS_OF, reference=reference, lookback_days=model.lookback_days, district_names=NAMES
    )
    assert report.degraded
    assert {(p.source, p.district, p.kind) for p in report.problems} == {
        ("police", "borovichsky", "silent")
    }
    problem = report.problems[0]
    assert problem.check == "reference" and problem.observed == 0 and problem.expected > 50
    assert problem.district_name == "Borovichsky district"
    assert problem.message("en").startswith("Police: no records in borovichsky (Borovichsky")
    assert "Полиция: нет записей в районе borovichsky (Borovichsky district)" in problem.message(
        "ru"
    )
    assert missing_sources_by_district(report) == {"borovichsky": ["police"]}
    assert missing_sources_for(report, ["shimsky", "borovichsky"]) == {
        "shimsky": [],
        "borovichsky": ["police"],
    }


def test_a_feed_that_stopped_recently_is_caught_by_the_trailing_months(records):
    broken = without_source(records, "education", "velikiy_novgorod", since="2024-04-01")
    report = check_integrity(broken, AS_OF)  # no reference: the district's own months only
    assert [(p.source, p.district, p.kind, p.check, p.period) for p in report.problems] == [
        ("education", "velikiy_novgorod", "silent", "trailing", "2024-04..2024-06")
    ]
    assert report.problems[0].expected > 100


def test_a_feed_that_fell_by_more_than_half_is_a_drop(records):
    broken = without_source(records, "housing", "velikiy_novgorod", since="2024-04-01", keep=0.25)
    report = check_integrity(broken, AS_OF)
    (problem,) = report.problems
    assert (problem.source, problem.kind) == ("housing", "drop")
    assert 0 < problem.observed < problem.expected / 2
    assert "less than half" in problem.message("en")
    assert "меньше половины" in problem.message("ru")


def test_a_fall_of_a_third_is_not_a_problem(records):
    broken = without_source(records, "housing", "velikiy_novgorod", since="2024-04-01", keep=0.67)
    assert not check_integrity(broken, AS_OF).degraded


def test_small_counts_are_not_judged(records):
    # Employment in the smallest district: too few records for a fall to 0 to mean anything.
    report = check_integrity(without_source(records, "employment", "khvoyninsky"), AS_OF)
    row = report.table.query("district == 'khvoyninsky' and source == 'employment'")
    assert row["status"].tolist() == ["not judged"]
    assert not report.degraded


def test_window_volumes_match_a_direct_count(records, screening, model):
    table = window_volumes(records, AS_OF, screening.scores["family_id"], model.lookback_days)
    ev = records.events.merge(records.families[["family_id", "district"]], on="family_id")
    start = pd.Timestamp(AS_OF) - pd.Timedelta(days=model.lookback_days)
    ev = ev[
        ev["family_id"].isin(screening.scores["family_id"])
        & (ev["event_date"] >= start)
        & (ev["event_date"] < pd.Timestamp(AS_OF))
    ]
    direct = ev.groupby(["district", "source"]).size()
    got = table.set_index(["district", "source"])["events"]
    assert got.sum() == len(ev)
    for key, n in direct.items():
        assert got[key] == n
    assert set(table["source"]) == set(SOURCES)


def test_monthly_volumes_leave_out_the_month_of_the_as_of_date(records):
    counts = monthly_volumes(records, "2024-07-15", 3)
    assert list(counts.columns.astype(str)) == ["2024-04", "2024-05", "2024-06"]
    ev = records.events
    june = ((ev["event_date"] >= "2024-06-01") & (ev["event_date"] < "2024-07-01")).sum()
    assert counts["2024-06"].sum() == june


def test_bad_months_are_refused(records):
    with pytest.raises(ValueError, match="recent_months and trailing_months"):
        check_integrity(records, AS_OF, recent_months=0)


def test_the_table_has_no_family_rows(records, reference):
    report = check_integrity(records, AS_OF, reference=reference)
    text = report.table.to_csv()
    assert not any(f in text for f in records.families["family_id"].head(200))
    assert np.isfinite(report.table["expected"]).all()
