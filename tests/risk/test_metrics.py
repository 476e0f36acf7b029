"""Metrics against scikit-learn, hand-computed ECE, calibration fits, capacity and bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from risk import Capacity
from risk import _metric_capacity as capm
from risk import _metric_kernels as impl
from risk.metrics import (
    CI_KEYS,
    BootstrapInterval,
    MetricInputError,
    bootstrap_ci,
    brier,
    calibration_slope_intercept,
    ece,
    evaluate,
    log_loss,
    pr_auc,
    precision_recall_at_capacity,
    roc_auc,
    top_k_per_group,
)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


@pytest.fixture(scope="module")
def calibrated() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    p = rng.beta(1.0, 8.0, size=20_000)
    y = (rng.random(p.size) < p).astype(int)
    return y, p


@st.composite
def labelled(draw: st.DrawFn, *, ties: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(4, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    with_ties = draw(st.booleans()) if ties is None else ties
    p = rng.integers(0, 6, size=n) / 5.0 if with_ties else rng.random(n)
    y = (rng.random(n) < 0.4).astype(int)
    y[0], y[1] = 0, 1  # both classes present
    return y, p


# --------------------------------------------------------------------------- against sklearn


@settings(max_examples=60, deadline=None)
@given(labelled())
def test_metrics_match_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    assert_allclose(roc_auc(y, p), skm.roc_auc_score(y, p), rtol=1e-12)
    assert_allclose(pr_auc(y, p), skm.average_precision_score(y, p), rtol=1e-12)
    assert_allclose(brier(y, p), skm.brier_score_loss(y, p), rtol=1e-12)
    assert_allclose(log_loss(y, p), skm.log_loss(y, p), rtol=1e-9)


def test_metrics_accept_bool_labels_and_extreme_probabilities() -> None:
    y = np.array([True, False, True, False])
    p = np.array([1.0, 0.0, 0.0, 0.5])
    assert_allclose(log_loss(y, p), skm.log_loss(y.astype(int), p), rtol=1e-9)
    assert_allclose(roc_auc(y, p), skm.roc_auc_score(y, p))


def test_undefined_metrics_are_nan_not_errors() -> None:
    y = np.zeros(5, dtype=int)
    p = np.linspace(0.1, 0.5, 5)
    assert np.isnan(roc_auc(y, p))
    assert np.isnan(pr_auc(y, p))
    assert all(np.isnan(calibration_slope_intercept(y, p)))
    assert brier(y, p) == pytest.approx(np.mean(p**2))
    # all positives: AUC undefined, average precision is 1
    assert np.isnan(roc_auc(np.ones(5), p))
    assert pr_auc(np.ones(5), p) == 1.0


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 2, 1], [0.1, 0.2, 0.3], "binary"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "not finite"),
        ([0, 1, 1], [0.1, 0.2], "has 2 values"),
        ([0, 1], [0.1, 1.2], r"probabilities in \[0, 1\]"),
        (["a", "b"], [0.1, 0.2], "binary"),
    ],
)
def test_bad_input_raises(y: list, p: list, match: str) -> None:
    with pytest.raises(MetricInputError, match=match):
        brier(y, p)


def test_roc_auc_accepts_scores_outside_unit_interval() -> None:
    assert roc_auc([0, 1, 0, 1], [-3.0, 2.0, 0.5, 7.0]) == 1.0


# --------------------------------------------------------------------------- ECE


def test_ece_hand_computed_one_row_per_bin() -> None:
    p = np.array([0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 1, 1])
    assert ece(y, p) == pytest.approx(np.mean(np.abs(y - p)))


def test_ece_hand_computed_equal_bins() -> None:
    # bins {.1,.2} {.3,.4} {.8,.9}: |0 - .15|, |.5 - .35|, |1 - .85|, each weight 1/3
    assert ece([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.8, 0.9], n_bins=3) == pytest.approx(0.15)


def test_ece_hand_computed_uneven_bins() -> None:
    # 7 rows in 3 bins of 3, 2, 2 (array_split): |1/3 - .2|*3/7 + |.5 - .55|*2/7 + |1 - .85|*2/7
    p = [0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 0.9]
    y = [0, 0, 1, 1, 0, 1, 1]
    assert ece(y, p, n_bins=3) == pytest.approx(0.8 / 7)


def test_ece_ties_across_a_bin_edge_carry_the_run_mean() -> None:
    # One run of four equal scores split over two bins: each half has mean outcome 1/4.
    assert ece([1, 0, 0, 0], [0.2] * 4, n_bins=2) == pytest.approx(0.05)
    assert ece([0, 0, 0, 1], [0.2] * 4, n_bins=2) == pytest.approx(0.05)


@settings(max_examples=40, deadline=None)
@given(labelled(), st.integers(0, 2**32 - 1))
def test_ece_does_not_depend_on_row_order(data: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    y, p = data
    perm = np.random.default_rng(seed).permutation(y.size)
    assert ece(y[perm], p[perm]) == pytest.approx(ece(y, p), abs=1e-12)


def test_ece_small_on_calibrated_data(calibrated: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = calibrated
    assert ece(y, p) < 0.01
    assert ece(y, np.clip(p * 2.0, 0, 1)) > 0.05


# --------------------------------------------------------------------------- calibration fits


def test_calibration_slope_and_intercept_on_calibrated_data(
    calibrated: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = calibrated
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1.0, abs=0.08)
    assert intercept == pytest.approx(0.0, abs=0.06)


def test_calibration_slope_detects_overconfidence(
    calibrated: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = calibrated
    too_extreme = _expit(2.0 * _logit(p))
    slope, _ = calibration_slope_intercept(y, too_extreme)
    assert slope == pytest.approx(0.5, abs=0.05)
    # underestimating risk everywhere gives a positive intercept
    _, intercept = calibration_slope_intercept(y, _expit(_logit(p) - 0.5))
    assert intercept == pytest.approx(0.5, abs=0.07)


def test_calibration_slope_matches_unpenalised_logistic_regression(
    calibrated: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = calibrated
    y, p = y[:3000], p[:3000]
    x = _logit(p)[:, None]
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, y)
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(fit.coef_[0, 0], rel=1e-5)
    # the intercept solves the score equation of logit P(y) = c + logit(p)
    assert np.sum(y - _expit(intercept + x[:, 0])) == pytest.approx(0.0, abs=1e-6)


def test_calibration_slope_nan_under_separation() -> None:
    slope, intercept = calibration_slope_intercept([0, 0, 1, 1], [0.1, 0.2, 0.6, 0.7])
    assert np.isnan(slope)
    assert np.isfinite(intercept)


# --------------------------------------------------------------------------- capacity


def test_top_k_ties_break_by_key_then_position() -> None:
    scores = [0.5, 0.9, 0.5, 0.5]
    assert top_k_per_group(scores, None, 2).tolist() == [True, True, False, False]
    ids = ["f9", "f1", "f3", "f2"]
    assert top_k_per_group(scores, None, 2, tie_break=ids).tolist() == [False, True, False, True]


def test_top_k_per_group_capacity_mapping() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    mask = top_k_per_group(scores, groups, {"a": 1, "b": 2})
    assert mask.tolist() == [True, False, False, True, True, False]
    assert top_k_per_group(scores, groups, 0).sum() == 0
    assert top_k_per_group(scores, groups, 10).all()
    with pytest.raises(MetricInputError, match=r"no entry for groups \['b'\]"):
        top_k_per_group(scores, groups, {"a": 1})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=40),
    st.integers(0, 6),
    st.integers(0, 2**32 - 1),
)
def test_top_k_is_deterministic_and_monotone(score_codes: list[int], k: int, seed: int) -> None:
    scores = np.array(score_codes) / 4.0
    n = scores.size
    ids = np.array([f"f{i:03d}" for i in range(n)])
    groups = np.array(["a", "b"])[np.arange(n) % 2]
    mask = top_k_per_group(scores, groups, k, tie_break=ids)
    # permuting rows flags the same families when ids break ties
    perm = np.random.default_rng(seed).permutation(n)
    mask_perm = top_k_per_group(scores[perm], groups[perm], k, tie_break=ids[perm])
    assert set(ids[perm][mask_perm]) == set(ids[mask])
    # raising capacity never removes a flag
    assert not (mask & ~top_k_per_group(scores, groups, k + 1, tie_break=ids)).any()
    for g in ("a", "b"):
        assert mask[groups == g].sum() == min(k, (groups == g).sum())


def test_precision_recall_at_capacity_matches_top_k() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(300)
    y = (rng.random(300) < p).astype(int)
    groups = rng.choice(["d1", "d2", "d3"], 300)
    cap = {"d1": 5, "d2": 10, "d3": 0}
    mask = top_k_per_group(p, groups, cap)
    precision, recall = precision_recall_at_capacity(y, p, groups, cap)
    assert precision == pytest.approx(y[mask].mean())
    assert recall == pytest.approx(y[mask].sum() / y.sum())
    assert np.isnan(precision_recall_at_capacity(y, p, None, 0)[0])


# --------------------------------------------------------------------------- weighted engine


@settings(max_examples=40, deadline=None)
@given(labelled(), st.integers(0, 2**32 - 1))
def test_weights_equal_repeated_rows(data: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    """A weight row of bootstrap counts must give the metric of the resample itself."""
    y, p = data
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 3, size=y.size).astype(float)
    w[0] = w[1] = 1.0  # keep both classes
    ry, rp = np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int))
    s = impl.SortedScores.of(y.astype(float), p)
    r = impl.Runs.of(s, w[s.order][None, :])
    assert_allclose(impl.weighted_auc(s, r)[0], roc_auc(ry, rp), rtol=1e-12)
    assert_allclose(impl._w_average_precision(s, r)[0], pr_auc(ry, rp), rtol=1e-12)
    assert_allclose(impl._w_brier(s, r)[0], brier(ry, rp), rtol=1e-12)
    assert_allclose(impl._w_log_loss(s, r)[0], log_loss(ry, rp), rtol=1e-12)
    assert_allclose(impl.weighted_ece(s, r, 10)[0], ece(ry, rp), atol=1e-12)
    _, slope, intercept = impl._w_calibration(s, r)
    assert_allclose([slope[0], intercept[0]], calibration_slope_intercept(ry, rp), atol=1e-7)
    groups = np.array(["a", "b"])[np.arange(y.size) % 2]
    # A resample flags by the same rule as the population it stands for, minimum score too.
    for k in (2, Capacity(default=2, per_district={"b": 3}, min_score=float(np.median(p)))):
        cap = capm._capacity(y.astype(float), p, groups, k, None)
        prec, rec = capm._w_precision_recall(cap, w[cap.order][None, :])
        expected = precision_recall_at_capacity(ry, rp, np.repeat(groups, w.astype(int)), k)
        assert_allclose([prec[0], rec[0]], expected, atol=1e-12)


# --------------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("metric", [roc_auc, pr_auc, brier, log_loss])
def test_bootstrap_interval_contains_the_estimate(
    metric: object, calibrated: tuple[np.ndarray, np.ndarray]
) -> None:
    y, p = calibrated
    y, p = y[:2000], p[:2000]
    ci = bootstrap_ci(metric, y, p, n_boot=100, seed=1)  # type: ignore[arg-type]
    assert isinstance(ci, BootstrapInterval)
    low, high = ci
    assert low < metric(y, p) < high  # type: ignore[operator]
    assert ci.n_skipped == 0
    assert ci == bootstrap_ci(metric, y, p, n_boot=100, seed=1)  # type: ignore[arg-type]


def test_bootstrap_of_any_callable_and_skipped_resamples() -> None:
    y = np.array([1] + [0] * 19)
    p = np.linspace(0.05, 0.95, 20)
    ci = bootstrap_ci(lambda a, b: roc_auc(a, b), y, p, n_boot=200, seed=0)
    # about (19/20)^20 = 36 % of resamples miss the only positive and are skipped
    assert 40 < ci.n_skipped < 110
    assert ci.n_boot == 200
    assert 0.0 <= ci.low <= ci.high <= 1.0
    fast = bootstrap_ci(roc_auc, y, p, n_boot=200, seed=0)
    assert 40 < fast.n_skipped < 110
    all_skipped = bootstrap_ci(roc_auc, np.zeros(5), np.linspace(0, 1, 5), n_boot=10)
    assert np.isnan(all_skipped.low) and all_skipped.n_skipped == 10
    with pytest.raises(MetricInputError, match="differ in length"):
        bootstrap_ci(brier, [0, 1], [0.1, 0.2, 0.3])


# --------------------------------------------------------------------------- evaluate


def test_evaluate_reports_every_key_with_intervals(
    calibrated: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = calibrated
    y, p = y[:4000], p[:4000]
    rng = np.random.default_rng(0)
    districts = rng.choice(["d1", "d2"], y.size)
    oracle = np.clip(p + rng.normal(0, 0.01, y.size), 0, 1)
    m = evaluate(y, p, groups=districts, capacity=50, oracle=oracle, n_boot=60, seed=2)
    for key in (*CI_KEYS, "oracle_roc_auc", "oracle_brier"):
        assert m[f"{key}_ci_low"] < m[f"{key}_ci_high"], key
        if key != "ece":  # ECE is biased upwards: resamples' ECE sits above the estimate
            assert m[f"{key}_ci_low"] <= m[key] <= m[f"{key}_ci_high"], key
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert m["oracle_brier"] == pytest.approx(skm.brier_score_loss(y, oracle))
    assert m["precision_at_capacity"] == pytest.approx(
        precision_recall_at_capacity(y, p, districts, 50)[0]
    )
    assert m["n"] == 4000 and m["prevalence"] == pytest.approx(y.mean())
    assert m["n_boot"] == 60 and m["n_boot_skipped"] == 0
    assert m == evaluate(y, p, groups=districts, capacity=50, oracle=oracle, n_boot=60, seed=2)


def test_evaluate_without_capacity_or_bootstrap() -> None:
    m = evaluate([0, 1, 0, 1], [0.2, 0.8, 0.4, 0.6], n_boot=0)
    assert np.isnan(m["precision_at_capacity"]) and np.isnan(m["roc_auc_ci_low"])
    assert "oracle_roc_auc" not in m
    assert m["roc_auc"] == 1.0
