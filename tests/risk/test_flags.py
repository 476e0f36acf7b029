"""Flags and tiers: properties of the per-district ranking against capacity."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import Capacity
from risk._flags import TIERS, CapacityError, assign_tiers, resolve_capacity

DISTRICTS = ["north", "south", "east"]


@st.composite
def populations(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 40))
    # Few distinct scores, so that ties are common.
    scores = draw(st.lists(st.sampled_from([0.0, 0.02, 0.05, 0.1, 0.3, 0.3, 0.7]), min_size=n,
                           max_size=n))  # fmt: skip
    districts = draw(st.lists(st.sampled_from(DISTRICTS), min_size=n, max_size=n))
    ids = draw(st.permutations([f"F{i:03d}" for i in range(n)]))
    return pd.DataFrame({"family_id": ids, "district": districts, "score": scores})


capacities = st.fixed_dictionaries({d: st.integers(0, 12) for d in DISTRICTS})


@settings(max_examples=150, deadline=None)
@given(populations(), capacities, st.sampled_from([0.0, 0.05, 0.2]))
def test_flag_count_invariant(frame, caps, min_score):
    out = assign_tiers(frame, Capacity(default=0, per_district=caps, min_score=min_score))
    for district in DISTRICTS:
        group = out[out["district"] == district]
        eligible = int((group["score"] >= min_score).sum())
        assert int(group["flagged"].sum()) == min(caps[district], eligible)
        assert (group["capacity"] == caps[district]).all()
    assert (out["flagged"] == (out["tier"] == "priority")).all()
    assert ((out["tier"] == "support") == (~out["flagged"] & (out["score"] >= min_score))).all()
    assert set(out["tier"]) <= set(TIERS)


@settings(max_examples=150, deadline=None)
@given(populations(), capacities, st.sampled_from(DISTRICTS), st.integers(1, 10))
def test_raising_capacity_never_removes_a_flag(frame, caps, district, more):
    before = assign_tiers(frame, Capacity(default=0, per_district=caps))
    raised = {**caps, district: caps[district] + more}
    after = assign_tiers(frame, Capacity(default=0, per_district=raised))
    assert not (before["flagged"] & ~after["flagged"]).any()
    # Other districts do not change at all.
    other = after["district"] != district
    assert (before.loc[other, "flagged"] == after.loc[other, "flagged"]).all()


@settings(max_examples=100, deadline=None)
@given(populations(), capacities, st.randoms(use_true_random=False))
def test_ranking_is_deterministic_whatever_the_row_order(frame, caps, rnd):
    order = list(range(len(frame)))
    rnd.shuffle(order)
    cap = Capacity(default=0, per_district=caps)
    a = assign_tiers(frame, cap).set_index("family_id").sort_index()
    b = assign_tiers(frame.iloc[order], cap).set_index("family_id").sort_index()
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=100, deadline=None)
@given(populations())
def test_ranks_follow_score_then_family_id(frame):
    out = assign_tiers(frame, 3)
    for _, group in out.groupby("district"):
        ordered = group.sort_values("rank_in_district")
        np.testing.assert_array_equal(ordered["rank_in_district"], np.arange(1, len(group) + 1))
        keys = list(zip(-ordered["score"], ordered["family_id"], strict=True))
        assert keys == sorted(keys)


def test_ties_at_the_capacity_edge_go_by_family_id():
    frame = pd.DataFrame({"family_id": ["c", "a", "b"], "district": "x", "score": [0.5] * 3})
    out = assign_tiers(frame, 2).set_index("family_id")
    assert out["flagged"].to_dict() == {"a": True, "b": True, "c": False}
    assert out.loc["c", "tier"] == "support"


def test_rows_keep_their_order_and_input_is_not_changed():
    frame = pd.DataFrame({"family_id": ["b", "a"], "district": ["x", "y"], "score": [0.1, 0.9]})
    copy = frame.copy()
    out = assign_tiers(frame, 1)
    pd.testing.assert_frame_equal(frame, copy)
    assert list(out["family_id"]) == ["b", "a"]
    assert list(out.columns) == [*frame.columns, "rank_in_district", "capacity", "flagged", "tier"]


def test_empty_population():
    frame = pd.DataFrame({"family_id": pd.Series([], dtype="str"),
                          "district": pd.Series([], dtype="str"), "score": []})  # fmt: skip
    out = assign_tiers(frame, 5)
    assert len(out) == 0 and "tier" in out


def test_resolve_capacity_forms():
    model = Capacity(default=25, per_district={"x": 4}, min_score=0.1)
    assert resolve_capacity(None, model) is model
    assert resolve_capacity(7, model) == Capacity(default=7, per_district={}, min_score=0.1)
    mapped = resolve_capacity({"y": 2}, model)
    assert (mapped.for_district("x"), mapped.for_district("y"), mapped.default) == (4, 2, 25)
    assert resolve_capacity(model, Capacity()) is model
    assert resolve_capacity(3, model, min_score=0.3).min_score == 0.3
    assert resolve_capacity(3.0, model).default == 3


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        (-1, "capacity must not be negative; got -1"),
        (2.5, "capacity must be a whole number of families; got 2.5"),
        (True, "capacity must be a whole number"),
        ({"x": -3}, r"capacity\['x'\] must not be negative"),
        (Capacity(default=2, min_score=1.5), r"min_score must be a probability in \[0, 1\]"),
    ],
)
def test_bad_capacity_is_refused(capacity, message):
    frame = pd.DataFrame({"family_id": ["a"], "district": ["x"], "score": [0.5]})
    with pytest.raises(CapacityError, match=message):
        assign_tiers(frame, capacity)


def test_bad_scores_are_refused():
    with pytest.raises(ValueError, match="lacks columns score"):
        assign_tiers(pd.DataFrame({"family_id": ["a"], "district": ["x"]}), 1)
    dup = pd.DataFrame({"family_id": ["a", "a"], "district": ["x", "x"], "score": [0.1, 0.2]})
    with pytest.raises(ValueError, match="family_id repeats in scores: a"):
        assign_tiers(dup, 1)
    nan = pd.DataFrame({"family_id": ["a"], "district": ["x"], "score": [np.nan]})
    with pytest.raises(ValueError, match="1 missing score"):
        assign_tiers(nan, 1)
