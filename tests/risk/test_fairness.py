"""The fairness audit against a hand-computed table, its ratios, flags and properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from risk.fairness import COLUMNS, METRICS, AuditError, audit, summarize

NAN = np.nan


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Twelve families in three districts; one has an unknown income status."""
    return pd.DataFrame(
        {
            "family_id": [f"f{i:02d}" for i in range(12)],
            "score": [0.9, 0.8, 0.6, 0.4, 0.3, 0.1, 0.7, 0.5, 0.45, 0.2, 0.35, 0.15],
            "label": [1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0],
            "distress": [1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1],
            "district": ["A"] * 6 + ["B"] * 4 + ["C"] * 2,
            "low_income": pd.array(
                [True, False, True, False, False, False, True, True, False, None, False, False],
                dtype="boolean",
            ),
        }
    )


@pytest.fixture(scope="module")
def table(frame: pd.DataFrame) -> pd.DataFrame:
    return audit(
        frame, score="score", label="label", groups=["district", "low_income"], threshold=0.5
    )


def _row(table: pd.DataFrame, attribute: str, group: str) -> pd.Series:
    hit = table[(table["attribute"] == attribute) & (table["group"] == group)]
    assert len(hit) == 1
    return hit.iloc[0]


# Hand-computed with threshold 0.5 (flag when score >= 0.5).
# A: scores .9 .8 .6 .4 .3 .1, labels 1 0 1 1 0 0 -> flags .9 .8 .6: TP 2 FP 1 FN 1 TN 2;
#    AUC: positives .9 .6 .4 over negatives .8 .3 .1 -> (3 + 2 + 2) / 9;
#    ECE with 10 equal-mass bins of 6 rows = mean |y - p| = (.1+.3+.6+.4+.8+.1) / 6.
# B: .7 .5 .45 .2, labels 0 1 1 0 -> flags .7 .5: TP 1 FP 1 FN 1 TN 1; AUC 2/4;
#    ECE (.2 + .55 + .5 + .7) / 4; mean (.7+.5+.45+.2)/4.
# C: .35 .15, labels 1 0 -> no flag: TP 0 FP 0 FN 1 TN 1; AUC 1; ECE (.15 + .65) / 2.
EXPECTED_DISTRICT = {
    # metric: (A, B, C)
    "n": (6, 4, 2),
    "n_flagged": (3, 2, 0),
    "flag_rate": (0.5, 0.5, 0.0),
    "prevalence": (0.5, 0.5, 0.5),
    "ppv": (2 / 3, 0.5, NAN),
    "tpr": (2 / 3, 0.5, 0.0),
    "fpr": (1 / 3, 0.5, 0.0),
    "fnr": (1 / 3, 0.5, 1.0),
    "roc_auc": (7 / 9, 0.5, 1.0),
    "ece": (2.3 / 6, 1.95 / 4, 0.4),
    "mean_score": (3.1 / 6, 1.85 / 4, 0.25),
}
EXPECTED_OUTSIDE = {
    "A": "",
    "B": "ppv_ratio,tpr_ratio,fpr_ratio,fnr_ratio,roc_auc_ratio,ece_ratio",
    "C": "flag_rate_ratio,tpr_ratio,fpr_ratio,fnr_ratio,roc_auc_ratio,mean_score_ratio",
}


def test_columns_exactly(table: pd.DataFrame) -> None:
    assert list(table.columns) == list(COLUMNS)
    assert list(table.columns[:13]) == [
        "attribute", "group", "n", "n_flagged", "flag_rate", "prevalence",
        "ppv", "tpr", "fpr", "fnr", "roc_auc", "ece", "mean_score",
    ]  # fmt: skip
    for m in ("ppv", "tpr", "fpr", "fnr", "flag_rate"):
        assert {f"{m}_ratio", f"{m}_ci_low", f"{m}_ci_high"} <= set(table.columns)
    assert table["is_reference"].dtype == bool


def test_district_table_by_hand(table: pd.DataFrame) -> None:
    district = table[table["attribute"] == "district"]
    assert district["group"].tolist() == ["A", "B", "C"]
    for metric, expected in EXPECTED_DISTRICT.items():
        assert_allclose(district[metric].to_numpy(float), expected, rtol=1e-12, err_msg=metric)


def test_district_ratios_and_band(table: pd.DataFrame) -> None:
    district = table[table["attribute"] == "district"].set_index("group")
    assert district["is_reference"].tolist() == [True, False, False]  # A is the largest
    for metric in METRICS:
        a, b, c = EXPECTED_DISTRICT[metric]
        expected = [1.0 if a > 0 else NAN, b / a if a > 0 else NAN, c / a if a > 0 else NAN]
        assert_allclose(district[f"{metric}_ratio"].to_numpy(float), expected, err_msg=metric)
    assert district["outside_band"].to_dict() == EXPECTED_OUTSIDE


def test_bool_attribute_with_missing(table: pd.DataFrame) -> None:
    income = table[table["attribute"] == "low_income"]
    assert income["group"].tolist() == ["False", "True", "missing"]
    assert income["n"].sum() == 12
    no, yes, missing = (income.iloc[i] for i in range(3))
    # False: .8(0,f) .4(1) .3(0) .1(0) .45(1) .35(1) .15(0): TP 0 FP 1 FN 3 TN 3
    assert (no["n"], no["n_flagged"], no["ppv"], no["tpr"]) == (7, 1, 0.0, 0.0)
    assert no["fpr"] == pytest.approx(0.25) and no["prevalence"] == pytest.approx(3 / 7)
    # True: .9(1,f) .6(1,f) .7(0,f) .5(1,f): TP 3 FP 1 FN 0 TN 0
    assert (yes["n"], yes["n_flagged"], yes["ppv"], yes["tpr"], yes["fpr"]) == (4, 4, 0.75, 1, 1)
    assert no["is_reference"] and not yes["is_reference"]
    assert yes["flag_rate_ratio"] == pytest.approx(7.0)
    assert yes["fpr_ratio"] == pytest.approx(4.0)
    assert np.isnan(yes["ppv_ratio"]) and np.isnan(yes["tpr_ratio"])  # reference value is 0
    assert yes["fnr_ratio"] == 0.0 and "fnr_ratio" in yes["outside_band"]
    # missing: one unflagged negative
    assert missing["n"] == 1 and np.isnan(missing["ppv"]) and np.isnan(missing["roc_auc"])


def test_reference_can_be_named(frame: pd.DataFrame) -> None:
    t = audit(
        frame,
        score="score",
        label="label",
        groups="district",
        threshold=0.5,
        reference={"district": "B"},
        n_boot=0,
    )
    b = _row(t, "district", "B")
    assert b["is_reference"] and b["fpr_ratio"] == 1.0
    assert _row(t, "district", "A")["fpr_ratio"] == pytest.approx((1 / 3) / 0.5)
    with pytest.raises(AuditError, match="reference group 'Z' of 'district' not found"):
        audit(frame, score="score", label="label", groups="district", threshold=0.5,
              reference={"district": "Z"})  # fmt: skip


def test_band_boundary_is_inside() -> None:
    # flag rates .4 and .5: ratio exactly 0.8 is inside the band
    df = pd.DataFrame(
        {
            "s": [0.9] * 4 + [0.1] * 6 + [0.9] * 5 + [0.1] * 5,
            "y": [1, 0] * 10,
            "g": ["a"] * 10 + ["b"] * 10,
        }
    )
    t = audit(df, score="s", label="y", groups="g", threshold=0.5, reference={"g": "b"}, n_boot=0)
    a = _row(t, "g", "a")
    assert a["flag_rate_ratio"] == pytest.approx(0.8)
    assert "flag_rate_ratio" not in a["outside_band"]
    # equal sizes: the first group is the reference; .5 / .4 = 1.25 is inside too
    t2 = audit(df, score="s", label="y", groups="g", threshold=0.5, n_boot=0)
    assert _row(t2, "g", "a")["is_reference"]
    assert _row(t2, "g", "b")["flag_rate_ratio"] == pytest.approx(1.25)
    assert "flag_rate_ratio" not in _row(t2, "g", "b")["outside_band"]
    t3 = audit(df, score="s", label="y", groups="g", threshold=0.5, band=(0.9, 1.1), n_boot=0)
    assert "flag_rate_ratio" in _row(t3, "g", "b")["outside_band"]


def test_top_k_and_flagged_are_other_ways_to_flag(frame: pd.DataFrame) -> None:
    by_threshold = audit(
        frame, score="score", label="label", groups="district", threshold=0.5, n_boot=0
    )
    # the top 5 overall are exactly the scores >= 0.5
    by_top_k = audit(frame, score="score", label="label", groups="district", top_k=5, n_boot=0)
    flags = frame.assign(decided=frame["score"] >= 0.5)
    by_flag = audit(
        flags, score="score", label="label", groups="district", flagged="decided", n_boot=0
    )
    pd.testing.assert_frame_equal(by_threshold, by_top_k)
    pd.testing.assert_frame_equal(by_threshold, by_flag)
    per_district = audit(
        frame, score="score", label="label", groups="district", top_k=1, top_k_by="district",
        n_boot=0,
    )  # fmt: skip
    assert per_district["n_flagged"].tolist() == [1, 1, 1]
    capacities = {"A": 2, "B": 0, "C": 1}
    mapped = audit(frame, score="score", label="label", groups="district", top_k=capacities,
                   top_k_by="district", n_boot=0)  # fmt: skip
    assert mapped["n_flagged"].tolist() == [2, 0, 1]


def test_distress_is_just_another_label(frame: pd.DataFrame) -> None:
    registered = audit(
        frame, score="score", label="label", groups="district", threshold=0.5, n_boot=0
    )
    true = audit(frame, score="score", label="distress", groups="district", threshold=0.5, n_boot=0)
    assert_allclose(true["prevalence"], frame.groupby("district")["distress"].mean().to_numpy())
    assert_allclose(registered["flag_rate"], true["flag_rate"])  # same flags
    # against true distress every flag in A is right: label bias hid one
    assert _row(true, "district", "A")["ppv"] == 1.0
    assert _row(registered, "district", "A")["ppv"] == pytest.approx(2 / 3)


def test_bootstrap_intervals(frame: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    big = pd.DataFrame(
        {
            "score": rng.random(n),
            "group": rng.choice(["x", "y"], n, p=[0.7, 0.3]),
        }
    )
    big["label"] = (rng.random(n) < big["score"]).astype(int)
    t = audit(big, score="score", label="label", groups="group", threshold=0.6, seed=3)
    for m in ("flag_rate", "prevalence", "ppv", "tpr", "fpr", "fnr", "roc_auc", "mean_score"):
        assert (t[f"{m}_ci_low"] <= t[m]).all() and (t[m] <= t[f"{m}_ci_high"]).all(), m
        assert (t[f"{m}_ci_low"] < t[f"{m}_ci_high"]).all(), m
    again = audit(big, score="score", label="label", groups="group", threshold=0.6, seed=3)
    pd.testing.assert_frame_equal(t, again)
    none = audit(big, score="score", label="label", groups="group", threshold=0.6, n_boot=0)
    assert none["ppv_ci_low"].isna().all()


def test_scores_that_are_not_probabilities_have_no_ece() -> None:
    df = pd.DataFrame({"s": [-2.0, 1.0, 3.0, 0.5], "y": [0, 1, 1, 0], "g": ["a"] * 4})
    t = audit(df, score="s", label="y", groups="g", threshold=0.8, n_boot=0)
    assert np.isnan(t.loc[0, "ece"]) and t.loc[0, "roc_auc"] == 1.0


def test_frame_is_not_modified(frame: pd.DataFrame) -> None:
    before = frame.copy()
    audit(frame, score="score", label="label", groups=["district", "low_income"], top_k=3)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"groups": "district"}, "exactly one way of flagging.*got none"),
        ({"groups": "district", "threshold": 0.5, "top_k": 3}, "got threshold, top_k"),
        (
            {"groups": ["district", "income"], "threshold": 0.5},
            "columns not in the frame: 'income'",
        ),
        ({"groups": "district", "top_k_by": "district", "threshold": 0.5}, "only meaningful"),
        ({"groups": [], "threshold": 0.5}, "at least one group"),
        ({"groups": "district", "threshold": 0.5, "band": (1.2, 0.8)}, "band must"),
    ],
)
def test_bad_arguments(frame: pd.DataFrame, kwargs: dict, match: str) -> None:
    with pytest.raises(AuditError, match=match):
        audit(frame, score="score", label="label", **kwargs)


def test_bad_columns_are_named(frame: pd.DataFrame) -> None:
    bad_label = frame.assign(label=[2] + [0] * 11)
    with pytest.raises(AuditError, match=r"label column 'label' must be binary.*\[2.0\]"):
        audit(bad_label, score="score", label="label", groups="district", threshold=0.5)
    nan_score = frame.assign(score=[np.nan] + [0.5] * 11)
    with pytest.raises(AuditError, match="score column 'score': 1 values are NaN"):
        audit(nan_score, score="score", label="label", groups="district", threshold=0.5)
    text_label = frame.assign(label=["yes"] * 12)
    with pytest.raises(AuditError, match="label column 'label' must be binary"):
        audit(text_label, score="score", label="label", groups="district", threshold=0.5)
    missing_flag = frame.assign(decided=[1.0, None] + [0.0] * 10)
    with pytest.raises(AuditError, match="flagged column 'decided': 1 values are missing"):
        audit(missing_flag, score="score", label="label", groups="district", flagged="decided")


def test_summarize_marks_reference_and_outside_band(table: pd.DataFrame) -> None:
    text = summarize(table)
    lines = text.splitlines()
    assert lines[0].split() == ["attribute", "group", "n", "flag_rate", "ppv", "fpr", "fnr"]
    a_line = next(line for line in lines if line.startswith("district") and " A *" in line)
    assert "!" not in a_line
    b_line = next(line for line in lines if line.startswith("district") and " B " in line)
    assert "0.667 (0.75)!" not in b_line and "0.500 (0.75)!" in b_line  # ppv of B
    assert "1.50)!" in b_line  # fpr and fnr of B
    assert lines[-1].startswith("* reference group")
    with pytest.raises(AuditError, match="unknown metrics"):
        summarize(table, metrics=("accuracy",))


# --------------------------------------------------------------------------- properties


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return pd.DataFrame(
        {
            "score": rng.integers(0, 10, n) / 10.0,
            "label": rng.integers(0, 2, n),
            "district": rng.choice(["a", "b", "c"], n),
            "single_parent": rng.random(n) < 0.3,
        }
    )


@settings(max_examples=40, deadline=None)
@given(frames(), st.floats(0.0, 1.0), st.floats(0.0, 0.5))
def test_group_sizes_add_up_and_threshold_is_monotone(
    df: pd.DataFrame, threshold: float, step: float
) -> None:
    kwargs = {"score": "score", "label": "label", "groups": ["district", "single_parent"]}
    low = audit(df, threshold=threshold, n_boot=0, **kwargs)  # type: ignore[arg-type]
    high = audit(df, threshold=threshold + step, n_boot=0, **kwargs)  # type: ignore[arg-type]
    for attribute in ("district", "single_parent"):
        assert low.loc[low["attribute"] == attribute, "n"].sum() == len(df)
        assert low.loc[low["attribute"] == attribute, "is_reference"].sum() == 1
    assert (high["n_flagged"] <= low["n_flagged"]).all()
    assert (low["n_flagged"] <= low["n"]).all()
    assert ((low["flag_rate"] >= 0) & (low["flag_rate"] <= 1)).all()


@settings(max_examples=30, deadline=None)
@given(frames(), st.integers(0, 5))
def test_top_k_by_district_flags_min_of_k_and_size(df: pd.DataFrame, k: int) -> None:
    t = audit(df, score="score", label="label", groups="district", top_k=k, top_k_by="district",
              n_boot=0)  # fmt: skip
    assert (t["n_flagged"] == np.minimum(k, t["n"])).all()


# --------------------------------------------------------------------------- command line


def test_risk_audit_command(frame: pd.DataFrame, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from family_risk.cli import app

    scores = tmp_path / "scores.csv"
    frame.to_csv(scores, index=False)
    out = tmp_path / "out"
    args = ["audit", "--scores", str(scores), "--score", "score", "--label", "label"]
    result = CliRunner().invoke(
        app, [*args, "--group", "district", "--group", "low_income", "--threshold", "0.5",
              "--out", str(out), "--n-boot", "0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out / "audit.csv", keep_default_na=False, na_values=[""])
    assert list(written.columns) == list(COLUMNS)
    assert written["group"].astype(str).tolist() == ["A", "B", "C", "False", "True", "missing"]
    assert_allclose(written["ppv"].iloc[:3], EXPECTED_DISTRICT["ppv"])
    assert (out / "audit.png").read_bytes()[:4] == b"\x89PNG"
    assert "0.500 (0.75)!" in result.output and "district" in result.output

    bad = CliRunner().invoke(app, [*args, "--group", "region", "--top-k", "2"])
    assert bad.exit_code == 2
    assert "columns not in the frame: 'region'" in bad.output
    neither = CliRunner().invoke(app, [*args, "--group", "district"])
    assert neither.exit_code == 2 and "exactly one way of flagging" in neither.output
