"""Flags and tiers: properties of the per-district ranking against capacity."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import Capacity, flag_mask
from risk._flags import TIERS, CapacityError, assign_tiers, resolve_capacity
from risk.fairness import audit
from risk.metrics import evaluate, precision_recall_at_capacity, top_k_per_group

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


# --------------------------------------------------------------------------- one rule everywhere


def _audited_flags(frame: pd.DataFrame, capacity: Capacity) -> dict[str, bool]:
    """The audit's flagged set: with each family its own group, n_flagged is its flag."""
    table = audit(frame, score="score", label="label", groups="family_id", capacity=capacity,
                  n_boot=0)  # fmt: skip
    return {str(g): bool(n) for g, n in zip(table["group"], table["n_flagged"], strict=True)}


def _screened(frame: pd.DataFrame, capacity: Capacity) -> pd.Series:
    return assign_tiers(frame, capacity).set_index("family_id")["flagged"]


def test_audit_evaluation_and_screener_flag_the_same_families():
    rng = np.random.default_rng(12)
    n = 600
    districts = rng.choice(DISTRICTS, n)
    # In "north" few families reach the minimum score: there the minimum, not capacity, bites.
    scores = np.where(districts == "north", rng.uniform(0.0, 0.105, n), rng.uniform(0.0, 0.9, n))
    scores = np.round(scores, 2)  # ties, broken by family_id
    frame = pd.DataFrame({"family_id": [f"F{i:04d}" for i in rng.permutation(n)],
                          "district": districts, "score": scores,
                          "label": (rng.random(n) < scores).astype(int)})  # fmt: skip
    cap = Capacity(default=30, per_district={"south": 12}, min_score=0.1)

    screened = _screened(frame, cap)
    north = frame["district"] == "north"
    assert 0 < screened[frame.loc[north, "family_id"]].sum() < 30  # the minimum bites
    assert (frame.loc[north, "score"] >= 0.1).sum() < 30
    assert screened[frame.loc[~north, "family_id"]].sum() == 30 + 12  # capacity bites
    # Without the minimum score the old top-k would have flagged more in the north.
    top_k = top_k_per_group(frame["score"], frame["district"], 30, tie_break=frame["family_id"])
    assert top_k[north.to_numpy()].sum() == 30

    assert _audited_flags(frame, cap) == screened.to_dict()
    mask = flag_mask(frame["score"], frame["district"], frame["family_id"], cap)
    assert dict(zip(frame["family_id"], mask.tolist(), strict=True)) == screened.to_dict()

    flagged = frame["family_id"].map(screened).to_numpy()
    y = frame["label"].to_numpy()
    m = evaluate(y, frame["score"], groups=frame["district"], capacity=cap,
                 tie_break=frame["family_id"], n_boot=20)  # fmt: skip
    assert m["precision_at_capacity"] == pytest.approx(y[flagged].mean(), rel=1e-12)
    assert m["recall_at_capacity"] == pytest.approx(y[flagged].sum() / y.sum(), rel=1e-12)
    assert m["precision_at_capacity_ci_low"] <= m["precision_at_capacity"]
    assert m["precision_at_capacity"] <= m["precision_at_capacity_ci_high"]


@settings(max_examples=100, deadline=None)
@given(populations(), capacities, st.sampled_from([0.0, 0.05, 0.2]), st.integers(0, 2**32 - 1))
def test_every_consumer_flags_as_the_screener(frame, caps, min_score, seed):
    cap = Capacity(default=0, per_district=caps, min_score=min_score)
    frame = frame.assign(label=np.random.default_rng(seed).integers(0, 2, len(frame)))
    screened = _screened(frame, cap)
    mask = flag_mask(frame["score"], frame["district"], frame["family_id"], cap)
    assert mask.tolist() == frame["family_id"].map(screened).tolist()
    top = top_k_per_group(frame["score"], frame["district"], cap, tie_break=frame["family_id"])
    assert top.tolist() == mask.tolist()
    if len(frame):
        assert _audited_flags(frame, cap) == screened.to_dict()
        y = frame["label"].to_numpy()
        precision, recall = precision_recall_at_capacity(
            y, frame["score"], frame["district"], cap, tie_break=frame["family_id"]
        )
        expected = y[mask].mean() if mask.any() else np.nan
        np.testing.assert_allclose(precision, expected, rtol=1e-12)


def test_flag_mask_refuses_what_assign_tiers_refuses():
    with pytest.raises(ValueError, match="differ in shape"):
        flag_mask([0.1, 0.2], ["x"], None, 1)
    with pytest.raises(ValueError, match="1 missing score"):
        flag_mask([np.nan], ["x"], ["a"], 1)
    with pytest.raises(CapacityError, match="must not be negative"):
        flag_mask([0.5], ["x"], ["a"], -1)
