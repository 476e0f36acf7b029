"""Evaluation metrics for a binary risk score, with vectorised bootstrap intervals.

Every metric here is computed by one weighted engine: a weight matrix ``W`` of shape
``(n_resamples, n)`` holds how many times each row appears in each resample. The point
estimate uses a single row of ones; a bootstrap uses multinomial counts. One code path
serves both, so an interval is always an interval around the number it reports, and a
bootstrap of 76,000 rows takes a few array passes instead of hundreds of Python calls.

Undefined metrics (one class present, no flag raised) are ``nan``; nothing here raises for
them. Bad input (non-binary labels, non-finite scores, lengths that differ) raises
:class:`MetricInputError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from features import InputError

FloatArray = NDArray[np.float64]

#: Probabilities are clipped to ``[EPS, 1 - EPS]`` before a logarithm (as scikit-learn does).
EPS = float(np.finfo(np.float64).eps)

#: Largest number of weight-matrix cells held in memory at once during a bootstrap.
_CHUNK_CELLS = 1_000_000

#: Newton iterations allowed for the calibration fits before giving up (``nan``).
_MAX_NEWTON = 100


class MetricInputError(InputError):
    """Input to a metric is malformed: non-binary labels, non-finite scores, lengths differ."""


# --------------------------------------------------------------------------- validation


def _labels(y: ArrayLike, name: str = "y") -> FloatArray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise MetricInputError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.dtype == object or arr.dtype.kind in "USO":
        raise MetricInputError(f"{name} must be binary (0/1 or bool); got dtype {arr.dtype}")
    out = arr.astype(np.float64)
    bad = ~np.isin(out, (0.0, 1.0))
    if bad.any():
        found = pd.unique(out[bad])[:5].tolist()
        raise MetricInputError(
            f"{name} must be binary (0/1 or bool); {int(bad.sum())} values are not, e.g. {found}"
        )
    return out


def _scores(p: ArrayLike, n: int, name: str = "p", *, probability: bool = True) -> FloatArray:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim != 1:
        raise MetricInputError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.shape[0] != n:
        raise MetricInputError(f"{name} has {arr.shape[0]} values but the labels have {n}")
    if not np.isfinite(arr).all():
        raise MetricInputError(f"{name}: {int((~np.isfinite(arr)).sum())} values are not finite")
    if probability and arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise MetricInputError(
            f"{name} must be probabilities in [0, 1]; found range [{arr.min():g}, {arr.max():g}]"
        )
    return arr


# --------------------------------------------------------------------------- weighted engine


@dataclass(frozen=True)
class SortedScores:
    """Rows sorted by ascending score (stable), with the runs of equal scores.

    Resample weights are always laid out in this sorted order, so no metric re-sorts.
    """

    order: NDArray[np.intp]  # original row of each sorted position
    y: FloatArray
    p: FloatArray
    ends: NDArray[np.intp]  # last sorted position of each run of equal scores

    @classmethod
    def of(cls, y: FloatArray, p: FloatArray) -> SortedScores:
        """Sort labels ``y`` and scores ``p`` by ascending score (stable)."""
        order = np.argsort(p, kind="stable")
        ps = p[order]
        ends = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True]) if ps.size else order[:0]
        return cls(order=order, y=y[order], p=ps, ends=ends)

    @property
    def run_p(self) -> FloatArray:
        """Score of each run."""
        return self.p[self.ends]

    def position(self) -> NDArray[np.intp]:
        """Sorted position of each original row (the inverse of ``order``)."""
        inv = np.empty_like(self.order)
        inv[self.order] = np.arange(self.order.size)
        return inv


@dataclass(frozen=True)
class Runs:
    """Weight and positive weight of each run of equal scores, and their running sums.

    One row per resample (``B x G``). Every sorted metric is a function of these arrays, so
    one ``cumsum`` pass serves the AUC, average precision, ECE, Brier, log loss and the
    calibration fits.
    """

    mass: FloatArray
    pos: FloatArray
    cum_w: FloatArray
    cum_pos: FloatArray

    @classmethod
    def of(cls, s: SortedScores, w: FloatArray) -> Runs:
        """Accumulate weights ``w`` (B x n, in the sorted order of ``s``)."""
        pos = w * s.y
        cum_w = np.cumsum(w, axis=1)
        cum_pos = np.cumsum(pos, axis=1)
        if s.ends.size == s.y.size:  # no ties: every row is its own run
            return cls(mass=w, pos=pos, cum_w=cum_w, cum_pos=cum_pos)
        cum_w, cum_pos = cum_w[:, s.ends], cum_pos[:, s.ends]
        mass = np.diff(cum_w, axis=1, prepend=0.0)
        return cls(
            mass=mass, pos=np.diff(cum_pos, axis=1, prepend=0.0), cum_w=cum_w, cum_pos=cum_pos
        )

    @property
    def total(self) -> FloatArray:
        """Total weight of each resample."""
        return self.cum_w[:, -1] if self.cum_w.shape[1] else np.zeros(self.cum_w.shape[0])

    @property
    def total_pos(self) -> FloatArray:
        """Total positive weight of each resample."""
        return self.cum_pos[:, -1] if self.cum_pos.shape[1] else np.zeros(self.cum_w.shape[0])


def _rowdot(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.einsum("ij,ij->i", a, b)


def safe_divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """Divide element-wise, ``nan`` where the denominator is not positive."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _pairs(r: Runs) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Positive-negative pairs ranked right, tied, and ranked wrong, per resample."""
    # Pairs (positive in run g, negative in a run at or below g), then split off the ties.
    at_or_below = _rowdot(r.pos, r.cum_w) - _rowdot(r.pos, r.cum_pos)
    tied = _rowdot(r.pos, r.mass) - _rowdot(r.pos, r.pos)
    right = at_or_below - tied
    return right, tied, r.total_pos * (r.total - r.total_pos) - at_or_below


def weighted_auc(s: SortedScores, r: Runs) -> FloatArray:
    """ROC AUC of each resample (ties count one half); ``nan`` with one class."""
    right, tied, wrong = _pairs(r)
    return safe_divide(right + 0.5 * tied, right + tied + wrong)


def _w_average_precision(s: SortedScores, r: Runs) -> FloatArray:
    pos = r.pos
    # At the threshold of run g every run scoring at least as high is flagged.
    tp = r.total_pos[:, None] - (r.cum_pos - pos)
    flagged = r.total[:, None] - (r.cum_w - r.mass)
    precision = np.where(pos > 0, tp / np.where(flagged > 0, flagged, 1.0), 0.0)
    return safe_divide((pos * precision).sum(axis=1), r.total_pos)


def _w_brier(s: SortedScores, r: Runs) -> FloatArray:
    p = s.run_p
    pos = r.pos
    return safe_divide(pos @ ((1.0 - p) ** 2) + (r.mass - pos) @ (p**2), r.total)


def _w_log_loss(s: SortedScores, r: Runs) -> FloatArray:
    q = np.clip(s.run_p, EPS, 1.0 - EPS)
    pos = r.pos
    return safe_divide(-(pos @ np.log(q) + (r.mass - pos) @ np.log1p(-q)), r.total)


def _bin_edges(m: int, n_bins: int) -> NDArray[np.int64]:
    """Cumulative bin boundaries of ``m`` sorted rows in ``n_bins`` equal-mass bins.

    Sizes follow :func:`numpy.array_split`: the first ``m % n_bins`` bins hold one more row.
    """
    k = np.arange(n_bins + 1)
    return k * (m // n_bins) + np.minimum(k, m % n_bins)


def weighted_ece(s: SortedScores, r: Runs, n_bins: int) -> FloatArray:
    """ECE (equal-mass bins) of each resample of integer weights."""
    zero = np.zeros((r.cum_w.shape[0], 1))
    cum_w = np.hstack([zero, r.cum_w])
    cum_y = np.hstack([zero, r.cum_pos])
    cum_p = np.hstack([zero, np.cumsum(r.mass * s.run_p, axis=1)])
    out = np.full(cum_w.shape[0], np.nan)
    for b in range(cum_w.shape[0]):
        m = round(float(cum_w[b, -1]))
        if m == 0:
            continue
        edges = _bin_edges(m, n_bins)
        # Cumulative sums are linear inside a run of equal scores, so interpolation splits
        # a run that straddles a bin edge in proportion, each part carrying the run's mean.
        gap = np.diff(np.interp(edges, cum_w[b], cum_y[b]) - np.interp(edges, cum_w[b], cum_p[b]))
        out[b] = np.abs(gap).sum() / m
    return out


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, EPS, 1.0 - EPS)
    return np.log(q) - np.log1p(-q)


def _expit(x: FloatArray) -> FloatArray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _w_calibration(
    s: SortedScores, r: Runs, start: tuple[float, float, float] = (0.0, 1.0, 0.0)
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unpenalised logistic fits of y on logit(p).

    Returns ``(a, b, c)``: ``a`` and the slope ``b`` of ``logit P(y) = a + b logit(p)``, and
    the calibration-in-the-large intercept ``c`` of ``logit P(y) = c + logit(p)``.

    Fitted on the runs of equal scores (sufficient statistics), all resamples at once by
    Newton-Raphson from ``start`` = (a, b, c); bootstraps start from the point estimate.
    """
    x = _logit(s.run_p)
    mass, pos = r.mass, r.pos
    n_rows = mass.shape[0]
    defined = (r.total_pos > 0) & (r.total_pos < r.total)
    right, tied, wrong = _pairs(r)
    # With the classes (quasi-)separated by the score, the slope's MLE does not exist.
    separated = (right == 0) | (wrong == 0)

    def loglik(a: FloatArray, b: FloatArray) -> FloatArray:
        eta = a[:, None] + b[:, None] * x
        return _rowdot(pos, eta) - _rowdot(mass, np.logaddexp(0.0, eta))

    a = np.full(n_rows, start[0])
    b = np.full(n_rows, start[1])
    done = ~defined | separated
    for _ in range(_MAX_NEWTON):
        mu = _expit(a[:, None] + b[:, None] * x)
        res = pos - mass * mu
        h = mass * mu * (1.0 - mu)
        g0, g1 = res.sum(axis=1), res @ x
        h00, h01, h11 = h.sum(axis=1), h @ x, h @ (x * x)
        det = h00 * h11 - h01 * h01
        ok = ~done & (det > 1e-12 * np.maximum(h00 * h11, 1e-300))
        safe_det = np.where(ok, det, 1.0)
        da = np.where(ok, (h11 * g0 - h01 * g1) / safe_det, 0.0)
        db = np.where(ok, (h00 * g1 - h01 * g0) / safe_det, 0.0)
        # Step halving keeps large Newton steps ascent steps: far from the optimum, extreme
        # logits make the full step overshoot and diverge. Small steps need no check.
        scale = np.ones(n_rows)
        big = ok & (np.abs(da) + np.abs(db) > 0.5)
        if big.any():
            ll = loglik(a, b)
            for _ in range(40):
                worse = big & ~(loglik(a + scale * da, b + scale * db) >= ll - 1e-9 * np.abs(ll))
                if not worse.any():
                    break
                scale = np.where(worse, scale * 0.5, scale)
        a, b = a + scale * da, b + scale * db
        done |= ~ok | (np.abs(scale * da) + np.abs(scale * db) < 1e-10)
        if done.all():
            break
    converged = defined & ~separated & np.isfinite(a) & np.isfinite(b) & done
    slope = np.where(converged, b, np.nan)

    # Intercept: logit P(y) = c + 1 * logit(p) (calibration-in-the-large); concave in c.
    c = np.full(n_rows, start[2])
    for _ in range(_MAX_NEWTON):
        mu = _expit(c[:, None] + x)
        step = safe_divide(r.total_pos - (mass * mu).sum(axis=1), (mass * mu * (1.0 - mu)).sum(1))
        step = np.where(defined, np.nan_to_num(step), 0.0)
        c = c + step
        if np.all(np.abs(step) < 1e-12):
            break
    intercept = np.where(defined, c, np.nan)
    return np.where(converged, a, np.nan), slope, intercept


@dataclass(frozen=True)
class _Capacity:
    """Rows ordered for flagging: by group, then score descending, then tie-break, position."""

    order: NDArray[np.intp]
    y: FloatArray
    gid: NDArray[np.intp]  # group code of each ordered row
    group_start: NDArray[np.intp]  # ordered position where each group begins
    k: FloatArray  # capacity of each group


def _capacity_order(
    p: FloatArray,
    groups: ArrayLike | None,
    k: int | Mapping[Any, int],
    tie_break: ArrayLike | None,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp], FloatArray]:
    n = p.shape[0]
    if groups is None:
        codes = np.zeros(n, dtype=np.intp)
        uniques: list[Any] = [None]
    else:
        g = np.asarray(groups, dtype=object)
        if g.shape != (n,):
            raise MetricInputError(f"groups has shape {g.shape} but the scores have ({n},)")
        if pd.isna(g).any():
            raise MetricInputError(f"groups: {int(pd.isna(g).sum())} values are missing")
        codes_raw, uniq = pd.factorize(g, sort=True)
        codes = codes_raw.astype(np.intp)
        uniques = list(uniq)
    if isinstance(k, Mapping):
        missing = [u for u in uniques if u not in k]
        if missing:
            raise MetricInputError(f"capacity has no entry for groups {missing[:5]}")
        caps = np.array([k[u] for u in uniques], dtype=np.float64)
    else:
        caps = np.full(len(uniques), float(k))
    if (caps < 0).any() or not np.isfinite(caps).all():
        raise MetricInputError(f"capacity must be a non-negative integer; got {caps.min():g}")
    if tie_break is None:
        tb = np.zeros(n, dtype=np.intp)
    else:
        tb_arr = np.asarray(tie_break, dtype=object)
        if tb_arr.shape != (n,):
            raise MetricInputError(f"tie_break has shape {tb_arr.shape} but the scores ({n},)")
        tb = pd.factorize(tb_arr, sort=True)[0].astype(np.intp)
    order = np.lexsort((np.arange(n), tb, -p, codes)).astype(np.intp)
    gid = codes[order]
    group_start = np.searchsorted(gid, np.arange(len(uniques))).astype(np.intp)
    return order, gid, group_start, caps


def _w_flagged(cap: _Capacity, w: FloatArray) -> FloatArray:
    """Weight of each ordered row that falls inside its group's capacity (B x n)."""
    cum = np.cumsum(w, axis=1)
    before_group = np.hstack([np.zeros((w.shape[0], 1)), cum])[:, cap.group_start]
    before = cum - w - before_group[:, cap.gid]
    return np.clip(cap.k[cap.gid] - before, 0.0, w)


def _w_precision_recall(cap: _Capacity, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    flagged = _w_flagged(cap, w)
    tp = flagged @ cap.y
    return safe_divide(tp, flagged.sum(axis=1)), safe_divide(tp, w @ cap.y)


# --------------------------------------------------------------------------- resampling


def resample_weights(rng: np.random.Generator, n: int, n_boot: int) -> Iterator[FloatArray]:
    """Yield multinomial bootstrap counts, ``n_boot`` x ``n`` in all, in chunks that fit memory.

    Row ``b`` counts how often each of the ``n`` rows is drawn in resample ``b``.
    """
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    for lo in range(0, n_boot, chunk):
        b = min(chunk, n_boot - lo)
        idx = rng.integers(0, n, size=(b, n))
        w = np.empty((b, n))
        for i in range(b):
            w[i] = np.bincount(idx[i], minlength=n)
        yield w


def percentile_interval(values: FloatArray, alpha: float) -> tuple[float, float, int]:
    """Return ``(low, high, n_skipped)`` percentiles of the finite bootstrap ``values``."""
    ok = values[np.isfinite(values)]
    skipped = int(values.size - ok.size)
    if ok.size == 0:
        return float("nan"), float("nan"), skipped
    lo, hi = np.quantile(ok, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi), skipped


class BootstrapInterval(tuple[float, float]):
    """A percentile bootstrap interval ``(low, high)`` that also says what it skipped.

    It unpacks like a pair; ``n_skipped`` counts resamples on which the metric was undefined
    (for instance a single class) and that were left out of the percentiles.
    """

    n_skipped: int
    n_boot: int

    def __new__(cls, low: float, high: float, *, n_skipped: int, n_boot: int) -> BootstrapInterval:
        self = super().__new__(cls, (low, high))
        self.n_skipped = n_skipped
        self.n_boot = n_boot
        return self

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self[0]

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self[1]

    def __repr__(self) -> str:
        return (
            f"BootstrapInterval(low={self[0]:.4g}, high={self[1]:.4g}, "
            f"n_skipped={self.n_skipped}, n_boot={self.n_boot})"
        )


# --------------------------------------------------------------------------- public metrics


def _prepare(y: ArrayLike, p: ArrayLike, *, probability: bool = True) -> SortedScores:
    yy = _labels(y)
    return SortedScores.of(yy, _scores(p, yy.shape[0], probability=probability))


def _ones(s: SortedScores) -> Runs:
    return Runs.of(s, np.ones((1, s.y.shape[0])))


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


def ece(y: ArrayLike, p: ArrayLike, n_bins: int = 10) -> float:
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


def top_k_per_group(
    scores: ArrayLike,
    groups: ArrayLike | None,
    k: int | Mapping[Any, int],
    *,
    tie_break: ArrayLike | None = None,
) -> NDArray[np.bool_]:
    """Flag the ``k`` highest scores in each group, deterministically.

    Within a group rows are ordered by score (descending), then by ``tie_break`` (ascending, for
    instance family ids), then by position, so equal scores never make the result depend on
    anything but the input.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores, higher means flagged first.
    groups : array-like of shape (n,) or None
        Group of each row (e.g. district); ``None`` means one group.
    k : int or mapping
        Capacity: the same for every group, or per group value. A mapping must cover every group.
    tie_break : array-like of shape (n,), optional
        Secondary sort key for equal scores.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        True for flagged rows.

    Examples
    --------
    >>> top_k_per_group([0.9, 0.5, 0.5, 0.7], ["a", "a", "b", "b"], 1).tolist()
    [True, False, False, True]
    >>> top_k_per_group([0.5, 0.5, 0.5], None, 1, tie_break=["f3", "f1", "f2"]).tolist()
    [False, True, False]
    """
    p = _scores(scores, len(np.asarray(scores)), "scores", probability=False)
    order, gid, start, caps = _capacity_order(p, groups, k, tie_break)
    rank = np.arange(p.shape[0]) - start[gid]
    mask = np.zeros(p.shape[0], dtype=bool)
    mask[order] = rank < caps[gid]
    return mask


def _capacity(
    y: FloatArray,
    p: FloatArray,
    groups: ArrayLike | None,
    capacity: int | Mapping[Any, int],
    tie_break: ArrayLike | None,
) -> _Capacity:
    order, gid, start, caps = _capacity_order(p, groups, capacity, tie_break)
    return _Capacity(order=order, y=y[order], gid=gid, group_start=start, k=caps)


def precision_recall_at_capacity(
    y: ArrayLike,
    p: ArrayLike,
    groups: ArrayLike | None,
    capacity: int | Mapping[Any, int],
    *,
    tie_break: ArrayLike | None = None,
) -> tuple[float, float]:
    """Precision and recall when the top ``capacity`` rows of each group are flagged.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Scores.
    groups : array-like of shape (n,) or None
        Group of each row (e.g. district); ``None`` means one group.
    capacity : int or mapping
        Flags per group, as in :func:`top_k_per_group`.
    tie_break : array-like of shape (n,), optional
        Secondary key for equal scores.

    Returns
    -------
    tuple of float
        ``(precision, recall)``; precision is ``nan`` when nothing is flagged, recall when
        there is no positive.

    Examples
    --------
    >>> precision_recall_at_capacity([1, 0, 1, 0], [0.9, 0.8, 0.2, 0.7], ["a", "a", "b", "b"], 1)
    (0.5, 0.5)
    """
    yy = _labels(y)
    pp = _scores(p, yy.shape[0], probability=False)
    cap = _capacity(yy, pp, groups, capacity, tie_break)
    prec, rec = _w_precision_recall(cap, np.ones((1, yy.shape[0])))
    return float(prec[0]), float(rec[0])


#: Weighted implementations of the public metrics, for vectorised bootstraps.
_VECTORISED: dict[Callable[..., float], Callable[[SortedScores, Runs], FloatArray]] = {
    roc_auc: weighted_auc,
    pr_auc: _w_average_precision,
    brier: _w_brier,
    log_loss: _w_log_loss,
    ece: lambda s, r: weighted_ece(s, r, 10),
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
            "ece": weighted_ece(s, r, 10),
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
    capacity: int | Mapping[Hashable, int] | None = None,
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
    capacity : int or mapping, optional
        Flags per group for precision and recall at capacity; without it those are ``nan``.
    oracle : array-like of shape (n,), optional
        The true probabilities (synthetic ``truth/``): adds ``oracle_roc_auc``, ``oracle_brier``
        on the same resamples.
    tie_break : array-like of shape (n,), optional
        Secondary key for equal scores when flagging at capacity.
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
