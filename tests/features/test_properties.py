"""Properties every feature build must hold, checked on a seeded synthetic population."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features import Records, build_features, build_snapshots

PROPERTY = settings(max_examples=20, deadline=None, derandomize=True)

as_of_dates = st.integers(0, 1790).map(
    lambda d: (pd.Timestamp("2021-01-01") + pd.Timedelta(days=d)).strftime("%Y-%m-%d")
)
seeds = st.integers(0, 2**32 - 1)
lookbacks = st.sampled_from([1095, 365, 120, 1500])


def _shift(events: pd.DataFrame, dates: np.ndarray, prefix: str) -> pd.DataFrame:
    moved = events.copy()
    moved["event_id"] = [f"{prefix}{i}" for i in range(len(moved))]
    moved["event_date"] = pd.Series(dates, index=moved.index).astype("datetime64[s]")
    return moved


@PROPERTY
@given(as_of=as_of_dates, seed=seeds, lookback=lookbacks)
def test_records_on_or_after_as_of_change_nothing(
    synthetic: Records, as_of: str, seed: int, lookback: int
) -> None:
    rng = np.random.default_rng(seed)
    base = build_features(synthetic, as_of, lookback_days=lookback)
    copies = synthetic.events.sample(300, random_state=seed, replace=True)
    t = np.datetime64(as_of, "D")
    later = _shift(copies, t + rng.integers(0, 800, len(copies)), "future")
    more = synthetic.replace(events=pd.concat([synthetic.events, later], ignore_index=True))
    pd.testing.assert_frame_equal(build_features(more, as_of, lookback_days=lookback), base)


@PROPERTY
@given(as_of=as_of_dates, seed=seeds, lookback=lookbacks)
def test_records_before_the_lookback_change_nothing(
    synthetic: Records, as_of: str, seed: int, lookback: int
) -> None:
    rng = np.random.default_rng(seed)
    base = build_features(synthetic, as_of, lookback_days=lookback)
    copies = synthetic.events.sample(300, random_state=seed, replace=True)
    first_seen = np.datetime64(as_of, "D") - lookback
    older = _shift(copies, first_seen - rng.integers(1, 2000, len(copies)), "old")
    more = synthetic.replace(events=pd.concat([older, synthetic.events], ignore_index=True))
    pd.testing.assert_frame_equal(build_features(more, as_of, lookback_days=lookback), base)


@PROPERTY
@given(as_of=as_of_dates, seed=seeds)
def test_outcomes_only_take_families_out_of_the_population(
    synthetic: Records, as_of: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    base = build_features(synthetic, as_of)
    # Outcomes of any date, including the year before as-of.
    fams = synthetic.families["family_id"].to_numpy()
    picked = rng.choice(fams, 40)
    t = np.datetime64(as_of, "D")
    dates = (t + rng.integers(-1500, 800, len(picked))).astype("datetime64[s]")
    extra = pd.DataFrame(
        {
            "family_id": pd.Series(picked, dtype="str"),
            "outcome_date": dates,
            "outcome_type": pd.Series(["sop_registration"] * len(picked), dtype="str"),
        }
    )
    more = synthetic.replace(outcomes=pd.concat([synthetic.outcomes, extra], ignore_index=True))
    got = build_features(more, as_of)
    in_year = (dates >= t - 365) & (dates < t)
    out = set(picked[in_year])
    assert out.isdisjoint(got.index)
    pd.testing.assert_frame_equal(got, base.loc[~base.index.isin(list(out))])
    # Without any outcome, the same families keep the same values.
    none = build_features(synthetic.replace(outcomes=synthetic.outcomes.iloc[:0]), as_of)
    pd.testing.assert_frame_equal(none.loc[base.index], base)


@PROPERTY
@given(as_of=as_of_dates, seed=seeds)
def test_permuting_rows_changes_nothing(synthetic: Records, as_of: str, seed: int) -> None:
    base = build_features(synthetic, as_of)
    shuffled = synthetic.replace(
        **{
            name: synthetic.table(name).sample(frac=1.0, random_state=seed + i % 7)
            for i, name in enumerate(("families", "members", "events", "outcomes"))
        }
    )
    pd.testing.assert_frame_equal(build_features(shuffled, as_of), base, check_exact=True)


@PROPERTY
@given(as_of=as_of_dates, seed=seeds, keep=st.floats(0.05, 0.95))
def test_a_familys_features_depend_only_on_its_records(
    synthetic: Records, as_of: str, seed: int, keep: float
) -> None:
    base = build_features(synthetic, as_of)
    rng = np.random.default_rng(seed)
    fams = synthetic.families["family_id"]
    kept = set(fams[rng.random(len(fams)) < keep])
    part = synthetic.replace(
        **{
            name: synthetic.table(name)[synthetic.table(name)["family_id"].isin(kept)]
            for name in ("families", "members", "events", "outcomes")
        }
    )
    got = build_features(part, as_of)
    pd.testing.assert_frame_equal(got, base.loc[base.index.isin(list(kept))], check_exact=True)


@PROPERTY
@given(as_of=as_of_dates, seed=seeds, n=st.integers(0, 80))
def test_excluding_events_equals_building_without_them(
    synthetic: Records, as_of: str, seed: int, n: int
) -> None:
    rng = np.random.default_rng(seed)
    ev = synthetic.events
    t = np.datetime64(as_of, "D")
    seen = ev.index[(ev["event_date"] < t).to_numpy()]
    disputed = list(ev.loc[rng.choice(seen, min(n, len(seen)), replace=False), "event_id"])
    without = synthetic.replace(events=ev[~ev["event_id"].isin(disputed)])
    got = build_features(synthetic, as_of, exclude_events=set(disputed) | {"no-such-id"})
    pd.testing.assert_frame_equal(got, build_features(without, as_of), check_exact=True)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    dates=st.lists(as_of_dates, min_size=1, max_size=4),
    lookback=lookbacks,
    seed=seeds,
)
def test_snapshots_equal_builds_per_date(
    synthetic: Records, dates: list[str], lookback: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    disputed = list(rng.choice(synthetic.events["event_id"].to_numpy(), 30, replace=False))
    snaps = build_snapshots(synthetic, dates, lookback_days=lookback, exclude_events=disputed)
    assert snaps.index.is_unique
    for d in sorted(set(dates)):
        one = build_features(synthetic, d, lookback_days=lookback, exclude_events=disputed)
        pd.testing.assert_frame_equal(snaps.xs(pd.Timestamp(d), level="as_of"), one)
    assert len(snaps) == sum(
        len(build_features(synthetic, d, lookback_days=lookback, exclude_events=disputed))
        for d in set(dates)
    )
