from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from features import (
    EVENT_TYPES,
    FEATURES,
    FeatureError,
    Records,
    build_features,
    build_snapshots,
    screening_population,
)

T = "2024-03-01"


def _age(birth: pd.Timestamp, t: pd.Timestamp) -> int:
    return t.year - birth.year - ((t.month, t.day) < (birth.month, birth.day))


def reference(records: Records, as_of: str, lookback: int = 1095) -> pd.DataFrame:
    """A slow, obvious implementation: a Python loop per family."""
    t = pd.Timestamp(as_of)
    children: dict[str, list[int]] = defaultdict(list)
    adults: dict[str, list[bool]] = defaultdict(list)
    disabled_child: set[str] = set()
    for m in records.members.itertuples():
        if m.birth_date >= t:
            continue
        if m.role == "child":
            age = _age(m.birth_date, t)
            if age < 18:
                children[m.family_id].append(age)
                if m.disability:
                    disabled_child.add(m.family_id)
        else:
            adults[m.family_id].append(bool(m.disability))
    recent = {
        o.family_id
        for o in records.outcomes.itertuples()
        if t - pd.Timedelta(days=365) <= o.outcome_date < t
    }
    events: dict[str, list] = defaultdict(list)
    for e in records.events.itertuples():
        age = (t - e.event_date).days
        if 1 <= age <= lookback:
            events[e.family_id].append((e.event_type, age, e.value))
    rows = {}
    for f in records.families.itertuples():
        fid = f.family_id
        if not (f.registered_on < t and children[fid] and fid not in recent):
            continue
        row: dict[str, float] = {}
        evs = events[fid]
        for et in EVENT_TYPES:
            ages = [a for (k, a, _) in evs if k == et]
            n = {w: sum(a <= w for a in ages) for w in (90, 360, 365, 1095)}
            row[f"{et}_n_90d"], row[f"{et}_n_365d"], row[f"{et}_n_1095d"] = (
                n[90],
                n[365],
                n[1095],
            )
            row[f"{et}_days_since"] = min(ages) if ages else lookback + 1
            row[f"{et}_trend"] = n[90] - (n[360] - n[90]) / 3

        def total(et: str, w: int, evs: list = evs) -> float:
            return sum(v for (k, a, v) in evs if k == et and a <= w)

        row["school_absence_days_90d"] = total("school_absence", 90)
        row["school_absence_days_365d"] = total("school_absence", 365)
        row["kindergarten_absence_days_90d"] = total("kindergarten_absence", 90)
        row["kindergarten_absence_days_365d"] = total("kindergarten_absence", 365)
        row["material_aid_roubles_365d"] = total("material_aid", 365)
        debts = sorted((-a, v) for (k, a, v) in evs if k == "utility_debt" and a <= 365)
        row["utility_debt_roubles_latest"] = max(
            (v for (na, v) in debts if na == debts[-1][0]), default=0.0
        )
        row["utility_debt_roubles_max_365d"] = max((v for _, v in debts), default=0.0)
        kids = children[fid]
        row["n_children"] = len(kids)
        row["youngest_child_age_years"] = min(kids)
        row["single_parent"] = int(len(adults[fid]) == 1)
        row["large_family"] = int(len(kids) >= 3)
        reg = f.registered_on
        row["months_since_registration"] = (
            (t.year - reg.year) * 12 + t.month - reg.month - (t.day < reg.day)
        )
        row["low_income"] = int(row["low_income_status_n_365d"] > 0)
        row["disabled_child"] = int(fid in disabled_child)
        row["disabled_parent"] = int(any(adults[fid]))
        for source in (
            "social_protection",
            "education",
            "health",
            "police",
            "employment",
            "housing",
        ):
            row[f"has_{source}_records"] = int(
                any(EVENT_TYPES[k].source == source for (k, _, _) in evs)
            )
        rows[fid] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.reindex(columns=list(FEATURES)).sort_index()


@pytest.mark.parametrize(("as_of", "lookback"), [("2023-06-15", 1095), ("2025-01-01", 400)])
def test_matches_a_per_family_reference(synthetic: Records, as_of: str, lookback: int) -> None:
    got = build_features(synthetic, as_of, lookback_days=lookback)
    want = reference(synthetic, as_of, lookback)
    assert list(got.index) == list(want.index)
    assert len(got) > 200
    for name in FEATURES:
        np.testing.assert_allclose(
            got[name].to_numpy(float),
            want[name].to_numpy(float),
            rtol=1e-12,
            atol=1e-9,
            err_msg=name,
        )


def test_frame_shape_dtypes_and_no_nan(synthetic: Records) -> None:
    x = build_features(synthetic, T)
    assert list(x.columns) == list(FEATURES)
    assert x.index.name == "family_id" and x.index.is_unique and x.index.is_monotonic_increasing
    assert [str(d) for d in x.dtypes] == [s.dtype for s in FEATURES.values()]
    assert not x.isna().to_numpy().any()
    assert x.index.equals(screening_population(synthetic, T))


def test_window_counts_nest_and_recency_agrees(synthetic: Records) -> None:
    x = build_features(synthetic, T)
    for et in EVENT_TYPES:
        if f"{et}_n_90d" not in x:
            continue
        n90, n365, n1095 = (x[f"{et}_n_{w}d"] for w in (90, 365, 1095))
        since = x[f"{et}_days_since"]
        assert (n90 <= n365).all() and (n365 <= n1095).all()
        assert since.between(1, 1096).all()
        assert ((since <= 90) == (n90 > 0)).all()
        assert ((since <= 1095) == (n1095 > 0)).all()


def _family(fid: str = "a", registered: str = "2020-01-01") -> tuple:
    return (fid, registered)


def test_population_rules(records_factory) -> None:
    fams = [
        _family("reg_on_T", T),
        _family("reg_before"),
        _family("child_turns_18"),
        _family("child_17"),
        _family("born_on_T"),
        _family("no_child"),
        _family("outcome_365"),
        _family("outcome_366"),
        _family("outcome_on_T"),
        _family("outcome_after"),
    ]
    members = [
        ("m1", "reg_on_T", "child", "2015-01-01", False),
        ("m2", "reg_before", "child", "2015-01-01", False),
        ("m3", "child_turns_18", "child", "2006-03-01", False),
        ("m4", "child_17", "child", "2006-03-02", False),
        ("m5", "born_on_T", "child", T, False),
        ("m6", "no_child", "mother", "1990-01-01", False),
    ]
    members += [
        (f"k{i}", f, "child", "2015-01-01", False)
        for i, f in enumerate(["outcome_365", "outcome_366", "outcome_on_T", "outcome_after"])
    ]
    outcomes = [
        ("outcome_365", "2023-03-02"),
        ("outcome_366", "2023-03-01"),
        ("outcome_on_T", T),
        ("outcome_after", "2024-06-01"),
    ]
    recs = records_factory(fams, members, (), outcomes)
    got = set(screening_population(recs, T))
    assert got == {"reg_before", "child_17", "outcome_366", "outcome_on_T", "outcome_after"}
    assert set(build_features(recs, T).index) == got


def test_leap_day_birthday_turns_on_first_of_march(records_factory) -> None:
    recs = records_factory([_family()], [("c", "a", "child", "2016-02-29", False)])
    assert build_features(recs, "2023-02-28").loc["a", "youngest_child_age_years"] == 6
    assert build_features(recs, "2023-03-01").loc["a", "youngest_child_age_years"] == 7
    assert build_features(recs, "2024-02-28").loc["a", "youngest_child_age_years"] == 7
    assert build_features(recs, "2024-02-29").loc["a", "youngest_child_age_years"] == 8


def test_window_edges_values_and_trend(records_factory) -> None:
    t = pd.Timestamp(T)
    day = lambda n: (t - pd.Timedelta(days=n)).strftime("%Y-%m-%d")  # noqa: E731
    events = [
        ("e0", "a", "school_absence", T, 50.0),  # on T: unseen
        ("e1", "a", "school_absence", day(1), 2.5),
        ("e2", "a", "school_absence", day(90), 1.25),
        ("e3", "a", "school_absence", day(91), 4.0),
        ("e4", "a", "school_absence", day(360), 3.0),
        ("e5", "a", "school_absence", day(361), 3.0),
        ("e6", "a", "school_absence", day(1095), 7.0),
        ("e7", "a", "school_absence", day(1096), 9.0),  # before the lookback: unseen
        ("d1", "a", "utility_debt", day(10), 500.0),
        ("d2", "a", "utility_debt", day(10), 700.0),
        ("d3", "a", "utility_debt", day(200), 9000.0),
        ("d4", "a", "utility_debt", day(400), 99000.0),
        ("l1", "a", "low_income_status", day(366), None),
    ]
    recs = records_factory(
        [_family()],
        [("c", "a", "child", "2015-01-01", True), ("p", "a", "mother", "1990-01-01", False)],
        events,
    )
    x = build_features(recs, T).loc["a"]
    assert x["school_absence_n_90d"] == 2
    assert x["school_absence_n_365d"] == 5
    assert x["school_absence_n_1095d"] == 6
    assert x["school_absence_days_since"] == 1
    assert x["school_absence_trend"] == pytest.approx(2 - 2 / 3)
    assert x["school_absence_days_90d"] == 3.75
    assert x["school_absence_days_365d"] == 13.75
    assert x["utility_debt_roubles_latest"] == 700.0
    assert x["utility_debt_roubles_max_365d"] == 9000.0
    assert x["utility_debt_n_1095d"] == 4
    assert x["low_income"] == 0  # status renewed 366 days ago: not in the last year
    assert x["has_social_protection_records"] == 1
    assert x["has_health_records"] == 0 and x["has_police_records"] == 0
    assert x["missed_checkup_days_since"] == 1096
    assert x["disabled_child"] == 1 and x["disabled_parent"] == 0 and x["single_parent"] == 1
    assert x["months_since_registration"] == 50
    short = build_features(recs, T, lookback_days=100).loc["a"]
    assert short["school_absence_n_1095d"] == 3 and short["missed_checkup_days_since"] == 101


def test_composition(records_factory) -> None:
    fams = [_family("big"), _family("two_parents")]
    members = [
        ("b1", "big", "child", "2010-01-01", False),
        ("b2", "big", "child", "2012-06-01", False),
        ("b3", "big", "child", "2020-05-05", False),
        ("b4", "big", "child", "2004-01-01", True),  # an adult child: not counted
        ("b5", "big", "guardian", "1970-01-01", True),
        ("t1", "two_parents", "child", "2023-01-01", False),
        ("t2", "two_parents", "mother", "1990-01-01", False),
        ("t3", "two_parents", "father", "1990-01-01", False),
    ]
    x = build_features(records_factory(fams, members), T)
    assert x.loc[
        "big",
        [
            "n_children",
            "youngest_child_age_years",
            "large_family",
            "single_parent",
            "disabled_child",
            "disabled_parent",
        ],
    ].tolist() == [3, 3, 1, 1, 0, 1]
    assert x.loc[
        "two_parents", ["n_children", "youngest_child_age_years", "large_family", "single_parent"]
    ].tolist() == [1, 1, 0, 0]


def test_snapshots_equal_per_date_builds(synthetic: Records) -> None:
    dates = ["2024-01-01", "2022-07-01", "2023-03-15", "2024-01-01"]
    snaps = build_snapshots(synthetic, dates, lookback_days=700)
    assert snaps.index.names == ["as_of", "family_id"]
    assert list(snaps.index.get_level_values("as_of").unique()) == sorted(
        pd.Timestamp(d) for d in set(dates)
    )
    for d in set(dates):
        one = build_features(synthetic, d, lookback_days=700)
        pd.testing.assert_frame_equal(snaps.xs(pd.Timestamp(d), level="as_of"), one)


def test_empty_inputs() -> None:
    x = build_features(Records.empty(), T)
    assert x.shape == (0, len(FEATURES)) and list(x.columns) == list(FEATURES)
    s = build_snapshots(Records.empty(), [])
    assert s.shape == (0, len(FEATURES)) and s.index.names == ["as_of", "family_id"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"as_of": "not a date"}, "as_of must be a date"),
        ({"as_of": None}, "as_of must be a date"),
        ({"lookback_days": 0}, "lookback_days must be a positive"),
        ({"lookback_days": 1.5}, "lookback_days must be an integer"),
        ({"exclude_events": "E1"}, "not one string"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"as_of": T} | kwargs
    with pytest.raises(FeatureError, match=match):
        build_features(Records.empty(), **args)


def test_unknown_event_type_is_named(records_factory) -> None:
    recs = records_factory(
        [_family()],
        [("c", "a", "child", "2015-01-01", False)],
        [("e1", "a", "school_absence", "2024-01-01", 1.0)],
    )
    bad = recs.replace(events=recs.events.assign(event_type=["truancy"]))
    with pytest.raises(FeatureError, match=r"unknown event types \['truancy'\]"):
        build_features(bad, T)


def test_categorical_and_object_columns_give_the_same_frame(synthetic: Records) -> None:
    base = build_features(synthetic, T)
    as_category = synthetic.replace(
        events=synthetic.events.astype({"event_type": "category", "family_id": "category"}),
        members=synthetic.members.astype({"role": "category", "family_id": object}),
    )
    pd.testing.assert_frame_equal(build_features(as_category, T), base)
