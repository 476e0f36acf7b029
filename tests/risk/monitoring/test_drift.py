"""PSI against an independent computation and known values; injected drift ranks first."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from risk.monitoring import (
    DRIFT_COLUMNS,
    Bins,
    ReferenceError,
    bin_shares,
    drift_report,
    load_reference,
    psi,
    psi_against,
    quantile_bins,
    save_reference,
)


def psi_by_hand(reference: np.ndarray, current: np.ndarray, edges: list[float]) -> float:
    """The textbook PSI, one bin at a time, with the same bins and the same floor."""
    total = 0.0
    bounds = [-math.inf, *edges, math.inf]
    for low, high in zip(bounds[:-1], bounds[1:], strict=True):
        e = sum(1 for x in reference if low < x <= high) / len(reference)
        a = sum(1 for x in current if low < x <= high) / len(current)
        e, a = max(e, 1e-4), max(a, 1e-4)
        total += (a - e) * math.log(a / e)
    return total


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=20, max_size=200),
    st.lists(st.integers(0, 9), min_size=20, max_size=200),
)
def test_psi_equals_the_textbook_computation(reference, current):
    ref, cur = np.array(reference, float), np.array(current, float)
    bins = quantile_bins(ref)
    assert psi_against(bins, cur) == pytest.approx(psi_by_hand(ref, cur, list(bins.edges)))


def test_identical_distributions_have_zero_psi():
    x = np.random.default_rng(0).normal(size=5000)
    assert psi_against(quantile_bins(x), x) == 0.0
    assert psi([0.2, 0.8], [0.2, 0.8]) == 0.0


@pytest.mark.parametrize("shift", [0.1, 0.5, 1.0])
def test_a_shifted_normal_has_the_known_psi(shift):
    # Over the reference's deciles, a normal shifted by `shift` puts Phi(q_k - shift) -
    # Phi(q_{k-1} - shift) in bin k: the exact PSI follows; it approaches shift**2 (the
    # symmetrised Kullback-Leibler divergence) as bins get finer.
    q = norm.ppf(np.linspace(0, 1, 11))
    actual = np.diff(norm.cdf(q - shift))
    exact = float(np.sum((actual - 0.1) * np.log(actual / 0.1)))
    assert exact == pytest.approx(shift**2, rel=0.1)
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(size=200_000), rng.normal(shift, size=200_000)
    assert psi_against(quantile_bins(ref), cur) == pytest.approx(exact, abs=0.005)


def test_empty_bins_use_the_floor():
    assert bin_shares([5.0, 6.0], [1.0, 2.0]).tolist() == [0.0, 0.0, 1.0]
    value = psi([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
    expected = 2 * (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert value == pytest.approx(expected)
    with pytest.raises(ValueError, match="3 reference bins but 2 current bins"):
        psi([0.2, 0.3, 0.5], [0.5, 0.5])


def test_injected_drift_in_one_feature_ranks_it_first(reference, screening):
    X = screening.features.copy()
    report = drift_report(reference.features, reference.score, X, screening.scores["score"])
    assert list(report.table.columns) == list(DRIFT_COLUMNS)
    assert report.max_feature_psi < 0.25  # one year later, nothing moved much
    X["school_absence_days_365d"] = X["school_absence_days_365d"] + 5
    drifted = drift_report(reference.features, reference.score, X, screening.scores["score"])
    assert drifted.top(1) == ("school_absence_days_365d",)
    assert drifted.max_feature_psi > 1.0
    assert drifted.table["psi"].is_monotonic_decreasing


def test_score_psi_sees_a_shift_of_the_scores(reference, screening):
    p = screening.scores["score"].to_numpy()
    calm = psi_against(reference.score, p)
    shifted = psi_against(reference.score, np.clip(p * 2, 0, 1))
    assert calm < 0.1 < shifted


def test_reference_round_trip(reference, tmp_path):
    path = save_reference(reference, tmp_path)
    assert path.name == "reference.json"
    assert load_reference(tmp_path) == reference
    assert "family_id" not in path.read_text("utf-8")
    assert isinstance(reference.score, Bins) and len(reference.score.shares) >= 5
    path.write_text("{}", "utf-8")
    with pytest.raises(ReferenceError, match="not a reference file"):
        load_reference(path)
    path.write_text("{", "utf-8")
    with pytest.raises(ReferenceError, match="not valid JSON"):
        load_reference(path)
