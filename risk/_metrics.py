"""Evaluation metrics for a binary risk score, with vectorised bootstrap intervals.

Every metric here is computed by one weighted engine (``risk/_metric_kernels.py``): a weight
matrix of resample counts, a row of ones for the point estimate, so an interval is always an
interval around the number it reports. Precision and recall at capacity flag by the screener's
rule (``risk/_metric_capacity.py`` over ``risk/_flags.py``).

Undefined metrics (one class present, no flag raised) are ``nan``; nothing here raises for
them. Bad input (non-binary labels, non-finite scores, lengths that differ) raises
:class:`MetricInputError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from risk._metric_capacity import (
    CapacitySpec,
    _Capacity,
    _capacity,
    _w_precision_recall,
    precision_recall_at_capacity,
    top_k_per_group,
)
from risk._metric_kernels import (
    ECE_BINS,
    BootstrapInterval,
    FloatArray,
    MetricInputError,
    Runs,
    SortedScores,
    _labels,
    _ones,
    _prepare,
    _scores,
    _w_average_precision,
    _w_brier,
    _w_calibration,
    _w_log_loss,
    percentile_interval,
    resample_weights,
    weighted_auc,
    weighted_ece,
)

__all__ = [
    "CI_KEYS",
    "BootstrapInterval",
    "MetricInputError",
    "bootstrap_ci",
    "brier",
    "calibration_slope_intercept",
    "ece",
    "evaluate",
    "log_loss",
    "pr_auc",
    "precision_recall_at_capacity",
    "roc_auc",
    "top_k_per_group",
]


def roc_auc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the ROC curve; ties count one half.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels (0/1 or bool).
    p : array-like of shape (n,)
        Scores; any real values, only their order matters.

    Returns
    -------
    float
        The AUC, or ``nan`` when only one class is present.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    s = _prepare(y, p, probability=False)
    return float(weighted_auc(s, _ones(s))[0])


def pr_auc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the precision-recall curve, as average precision (step-wise, no interpolation).

    Matches :func:`sklearn.metrics.average_precision_score`.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Scores; only their order matters.

    Returns
    -------
    float
        Average precision, or ``nan`` when there is no positive label.

    Examples
    --------
    >>> round(pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    s = _prepare(y, p, probability=False)
    return float(_w_average_precision(s, _ones(s))[0])


def brier(y: ArrayLike, p: ArrayLike) -> float:
    """Brier score: mean squared difference between probability and outcome.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Probabilities in [0, 1].

    Returns
    -------
    float
        The Brier score (lower is better), ``nan`` for empty input.

    Examples
    --------
    >>> round(brier([0, 1], [0.2, 0.6]), 6)
    0.1
    """
    s = _prepare(y, p)
    return float(_w_brier(s, _ones(s))[0])


def log_loss(y: ArrayLike, p: ArrayLike) -> float:
    """Mean negative log-likelihood; probabilities are clipped to ``[EPS, 1 - EPS]``.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Probabilities in [0, 1].

    Returns
    -------
    float
        The log loss in nats, ``nan`` for empty input.

    Examples
    --------
    >>> round(log_loss([0, 1], [0.5, 0.5]), 4)
    0.6931
    """
    s = _prepare(y, p)
    return float(_w_log_loss(s, _ones(s))[0])


def ece(y: ArrayLike, p: ArrayLike, n_bins: int = ECE_BINS) -> float:
    """Compute the expected calibration error (ECE) over equal-mass bins.

    Rows are sorted by probability and cut into ``n_bins`` bins of equal count (sizes differ by
    at most one, the first bins holding the extra rows, as :func:`numpy.array_split` does).
    ECE is ``sum_b (n_b / n) * |mean(y in b) - mean(p in b)|``.

    Ties: a run of equal probabilities that straddles a bin edge is split between the bins in
    proportion, each part carrying the run's mean outcome, so ECE never depends on row order.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.

    Returns
    -------
    float
        The ECE in [0, 1], ``nan`` for empty input.

    Examples
    --------
    >>> ece([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], n_bins=2)
    0.25
    """
    if n_bins < 1:
        raise MetricInputError(f"n_bins must be at least 1; got {n_bins}")
    s = _prepare(y, p)
    return float(weighted_ece(s, _ones(s), n_bins)[0])


def calibration_slope_intercept(y: ArrayLike, p: ArrayLike) -> tuple[float, float]:
    """Calibration slope and intercept of probabilities ``p`` against outcomes ``y``.

    - **slope**: ``b`` of the unpenalised logistic fit ``logit P(y=1) = a + b * logit(p)``
      (1 when calibrated, below 1 when scores are too extreme);
    - **intercept**: calibration-in-the-large, ``a`` of ``logit P(y=1) = a + logit(p)`` with the
      slope fixed at 1 (0 when calibrated, above 0 when risk is underestimated on average).
      This is the "calibration intercept" of Van Calster et al. (2019), not the ``a`` of the
      slope fit, which mixes both errors.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Probabilities in [0, 1]; clipped to ``[EPS, 1 - EPS]`` before the logit.

    Returns
    -------
    tuple of float
        ``(slope, intercept)``; both ``nan`` with one class present, the slope ``nan`` when the
        fit does not converge (perfect separation, constant scores).

    Examples
    --------
    >>> y = [0, 0, 1, 1, 0, 1, 1, 1]
    >>> p = [0.1, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.9]
    >>> [round(v, 3) for v in calibration_slope_intercept(y, p)]
    [1.489, 0.697]
    """
    s = _prepare(y, p)
    _, slope, intercept = _w_calibration(s, _ones(s))
    return float(slope[0]), float(intercept[0])


#: Weighted implementations of the public metrics, for vectorised bootstraps.
_VECTORISED: dict[Callable[..., float], Callable[[SortedScores, Runs], FloatArray]] = {
    roc_auc: weighted_auc,
    pr_auc: _w_average_precision,
    brier: _w_brier,
    log_loss: _w_log_loss,
    ece: lambda s, r: weighted_ece(s, r, ECE_BINS),
}


def bootstrap_ci(
    metric_fn: Callable[..., float],
    *arrays: ArrayLike,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> BootstrapInterval:
    """Percentile bootstrap interval of ``metric_fn(*arrays)``, resampling rows.

    The metrics of this module with signature ``(y, p)`` (:func:`roc_auc`, :func:`pr_auc`,
    :func:`brier`, :func:`log_loss`, :func:`ece`) are bootstrapped in a few vectorised array
    passes; any other callable is called once per resample. Resamples on which the metric is
    undefined (``nan``, e.g. a single class) are skipped and counted in ``n_skipped``.

    Parameters
    ----------
    metric_fn : callable
        Metric taking the arrays, row-aligned, and returning a float.
    *arrays : array-like of shape (n,)
        Arrays resampled together (same rows in each).
    n_boot : int, default=200
        Number of resamples.
    seed : int, default=0
        Seed of the resampling generator.
    alpha : float, default=0.05
        One minus the coverage: 0.05 gives a 95 % interval.

    Returns
    -------
    BootstrapInterval
        ``(low, high)``, also with ``n_skipped`` and ``n_boot``; ``(nan, nan)`` when every
        resample was skipped.

    Examples
    --------
    >>> y = [0, 1] * 50
    >>> p = [0.3, 0.7] * 50
    >>> low, high = bootstrap_ci(brier, y, p, n_boot=50)
    >>> low <= brier(y, p) <= high
    True
    """
    if not arrays:
        raise MetricInputError("bootstrap_ci needs at least one array to resample")
    if n_boot < 1 or not 0.0 < alpha < 1.0:
        raise MetricInputError(f"need n_boot >= 1 and 0 < alpha < 1; got {n_boot}, {alpha}")
    cols = [np.asarray(a) for a in arrays]
    n = cols[0].shape[0]
    if any(c.shape[0] != n for c in cols):
        raise MetricInputError(f"arrays differ in length: {[c.shape[0] for c in cols]}")
    rng = np.random.default_rng(seed)
    fast = _VECTORISED.get(metric_fn)
    if fast is not None and len(cols) == 2:
        s = _prepare(cols[0], cols[1], probability=metric_fn not in (roc_auc, pr_auc))
        values = np.concatenate([fast(s, Runs.of(s, w)) for w in resample_weights(rng, n, n_boot)])
    else:
        values = np.empty(n_boot)
        for b in range(n_boot):
            idx = rng.integers(0, n, size=n)
            values[b] = metric_fn(*(c[idx] for c in cols))
    lo, hi, skipped = percentile_interval(values, alpha)
    return BootstrapInterval(lo, hi, n_skipped=skipped, n_boot=n_boot)


#: Keys of :func:`evaluate` that also get ``_ci_low`` / ``_ci_high``.
CI_KEYS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "ece",
    "calibration_slope",
    "calibration_intercept",
    "precision_at_capacity",
    "recall_at_capacity",
)


@dataclass(frozen=True)
class _Evaluation:
    """What :func:`evaluate` computes on every resample, with the orders it needs."""

    s: SortedScores
    cap: _Capacity | None
    cap_perm: NDArray[np.intp] | None  # sorted position of each capacity-ordered row
    oracle: SortedScores | None
    oracle_perm: NDArray[np.intp] | None
    start: tuple[float, float, float] = (0.0, 1.0, 0.0)

    def run(self, w: FloatArray) -> dict[str, FloatArray]:
        """All metrics for weights ``w`` (B x n, in the sorted order of ``s``)."""
        s = self.s
        r = Runs.of(s, w)
        _, slope, intercept = _w_calibration(s, r, self.start)
        out = {
            "roc_auc": weighted_auc(s, r),
            "pr_auc": _w_average_precision(s, r),
            "brier": _w_brier(s, r),
            "log_loss": _w_log_loss(s, r),
            "ece": weighted_ece(s, r, ECE_BINS),
            "calibration_slope": slope,
            "calibration_intercept": intercept,
        }
        if self.cap is not None and self.cap_perm is not None:
            prec, rec = _w_precision_recall(self.cap, w[:, self.cap_perm])
            out["precision_at_capacity"], out["recall_at_capacity"] = prec, rec
        if self.oracle is not None and self.oracle_perm is not None:
            r_oracle = Runs.of(self.oracle, w[:, self.oracle_perm])
            out["oracle_roc_auc"] = weighted_auc(self.oracle, r_oracle)
            out["oracle_brier"] = _w_brier(self.oracle, r_oracle)
        return out


def evaluate(
    y: ArrayLike,
    p: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    capacity: CapacitySpec | None = None,
    oracle: ArrayLike | None = None,
    tie_break: ArrayLike | None = None,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Every metric of a test snapshot, with bootstrap intervals.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Calibrated probabilities in [0, 1].
    groups : array-like of shape (n,), optional
        Capacity groups (districts); ``None`` means one group.
    capacity : Capacity, int or mapping, optional
        Capacity for precision and recall at capacity; without it those are ``nan``. A
        :class:`risk.Capacity` flags exactly as the screener does (per district, and at or
        above its minimum score; pass the districts as ``groups`` and family ids as
        ``tie_break``); an int or a mapping of group to int flags the top of each group with no
        minimum score (see :func:`top_k_per_group`). Flags are decided once on the whole
        snapshot; each bootstrap resample applies the same rule to its counts of rows.
    oracle : array-like of shape (n,), optional
        The true probabilities (synthetic ``truth/``): adds ``oracle_roc_auc``, ``oracle_brier``
        on the same resamples.
    tie_break : array-like of shape (n,), optional
        Secondary key for equal scores when flagging at capacity (family ids).
    n_boot : int, default=200
        Bootstrap resamples; 0 skips the intervals (they are ``nan``).
    seed : int, default=0
        Seed of the resampling.
    alpha : float, default=0.05
        One minus the coverage of the intervals.

    Returns
    -------
    dict of str to float
        ``roc_auc, pr_auc, brier, log_loss, ece, calibration_slope, calibration_intercept,
        precision_at_capacity, recall_at_capacity, prevalence, n``, ``<key>_ci_low`` and
        ``<key>_ci_high`` for each key in :data:`CI_KEYS` (and the oracle's), and
        ``n_boot`` and ``n_boot_skipped`` (most resamples any one metric left out).

    Examples
    --------
    >>> m = evaluate([0, 1, 0, 1], [0.2, 0.8, 0.4, 0.6], capacity=2, n_boot=0)
    >>> m["roc_auc"], m["precision_at_capacity"], m["n"]
    (1.0, 1.0, 4.0)
    """
    yy = _labels(y)
    n = yy.shape[0]
    pp = _scores(p, n)
    s = SortedScores.of(yy, pp)
    position = s.position()
    cap = None if capacity is None else _capacity(yy, pp, groups, capacity, tie_break)
    orc = None if oracle is None else SortedScores.of(yy, _scores(oracle, n, "oracle"))
    ev = _Evaluation(
        s=s,
        cap=cap,
        cap_perm=None if cap is None else position[cap.order],
        oracle=orc,
        oracle_perm=None if orc is None else position[orc.order],
    )

    point = ev.run(np.ones((1, n)))
    result: dict[str, float] = {key: float(v[0]) for key, v in point.items()}
    result.setdefault("precision_at_capacity", float("nan"))
    result.setdefault("recall_at_capacity", float("nan"))
    result["prevalence"] = float(yy.mean()) if n else float("nan")
    result["n"] = float(n)

    keys = [k for k in (*CI_KEYS, "oracle_roc_auc", "oracle_brier") if k in point]
    boots: dict[str, list[FloatArray]] = {k: [] for k in keys}
    if n_boot > 0 and n > 0:
        # Resamples sit near the full sample: start their calibration fits at its estimate.
        a, b, c = _w_calibration(s, _ones(s))
        start = (float(a[0]), float(b[0]), float(c[0]))
        if not all(np.isfinite(start)):
            start = (0.0, 1.0, 0.0)
        ev = dataclasses.replace(ev, start=start)
        for w in resample_weights(np.random.default_rng(seed), n, n_boot):
            for key, v in ev.run(w).items():
                boots[key].append(v)
    skipped = 0
    for key in (*CI_KEYS, "oracle_roc_auc", "oracle_brier"):
        if key not in point and key.startswith("oracle"):
            continue
        lo, hi = float("nan"), float("nan")
        if boots.get(key):
            lo, hi, sk = percentile_interval(np.concatenate(boots[key]), alpha)
            skipped = max(skipped, sk)
        result[f"{key}_ci_low"], result[f"{key}_ci_high"] = lo, hi
    result["n_boot"] = float(n_boot)
    result["n_boot_skipped"] = float(skipped)
    return result
