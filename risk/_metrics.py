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

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Probabilities are clipped to ``[EPS, 1 - EPS]`` before a logarithm (as scikit-learn does).
EPS = float(np.finfo(np.float64).eps)

#: Largest number of weight-matrix cells held in memory at once during a bootstrap.
_CHUNK_CELLS = 4_000_000

#: Newton iterations allowed for the calibration fits before giving up (``nan``).
_MAX_NEWTON = 100


class MetricInputError(ValueError):
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
class _Sorted:
    """Rows sorted by ascending score, with the starts of runs of equal scores."""

    order: NDArray[np.intp]
    y: FloatArray
    p: FloatArray
    starts: NDArray[np.intp]

    @classmethod
    def of(cls, y: FloatArray, p: FloatArray) -> _Sorted:
        order = np.argsort(p, kind="stable")
        ps = p[order]
        if ps.size:
            starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
        else:
            starts = np.zeros(0, dtype=np.intp)
        return cls(order=order, y=y[order], p=ps, starts=starts)

    def tie_sums(self, values: FloatArray) -> FloatArray:
        """Sum ``values`` (B x n, sorted order) over each run of equal scores."""
        if self.starts.size == 0:
            return np.zeros((values.shape[0], 0))
        return np.add.reduceat(values, self.starts, axis=1)


def _divide(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _w_auc(s: _Sorted, w: FloatArray) -> FloatArray:
    pos = s.tie_sums(w * s.y)
    neg = s.tie_sums(w * (1.0 - s.y))
    neg_below = np.cumsum(neg, axis=1) - neg
    num = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
    return _divide(num, pos.sum(axis=1) * neg.sum(axis=1))


def _w_average_precision(s: _Sorted, w: FloatArray) -> FloatArray:
    pos = s.tie_sums(w * s.y)[:, ::-1]  # descending score: thresholds from the top
    tot = s.tie_sums(w)[:, ::-1]
    precision = _divide(np.cumsum(pos, axis=1), np.cumsum(tot, axis=1))
    # Runs absent from a resample have pos == 0, so their nan precision must not count.
    contrib = np.where(pos > 0, pos * np.nan_to_num(precision), 0.0).sum(axis=1)
    return _divide(contrib, pos.sum(axis=1))


def _w_mean(values: FloatArray, w: FloatArray) -> FloatArray:
    return _divide(w @ values, w.sum(axis=1))


def _w_brier(s: _Sorted, w: FloatArray) -> FloatArray:
    return _w_mean((s.p - s.y) ** 2, w)


def _w_log_loss(s: _Sorted, w: FloatArray) -> FloatArray:
    q = np.clip(s.p, EPS, 1.0 - EPS)
    return _w_mean(-(s.y * np.log(q) + (1.0 - s.y) * np.log1p(-q)), w)


def _bin_edges(m: int, n_bins: int) -> NDArray[np.int64]:
    """Cumulative bin boundaries of ``m`` sorted rows in ``n_bins`` equal-mass bins.

    Sizes follow :func:`numpy.array_split`: the first ``m % n_bins`` bins hold one more row.
    """
    k = np.arange(n_bins + 1)
    return k * (m // n_bins) + np.minimum(k, m % n_bins)


def _w_ece(s: _Sorted, w: FloatArray, n_bins: int) -> FloatArray:
    mass = s.tie_sums(w)
    zero = np.zeros((w.shape[0], 1))
    cum_w = np.hstack([zero, np.cumsum(mass, axis=1)])
    cum_y = np.hstack([zero, np.cumsum(s.tie_sums(w * s.y), axis=1)])
    cum_p = np.hstack([zero, np.cumsum(mass * s.p[s.starts], axis=1)])
    out = np.full(w.shape[0], np.nan)
    for b in range(w.shape[0]):
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


def _w_calibration(s: _Sorted, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Unpenalised logistic fits of y on logit(p): (slope, intercept with slope fixed at 1)."""
    x = _logit(s.p)
    y = s.y
    n_pos = w @ y
    n_all = w.sum(axis=1)
    defined = (n_pos > 0) & (n_pos < n_all)

    # Slope: Newton-Raphson on (a, b) in logit P(y) = a + b * logit(p), all resamples at once.
    a = np.zeros(w.shape[0])
    b = np.ones(w.shape[0])
    done = ~defined
    for _ in range(_MAX_NEWTON):
        mu = _expit(a[:, None] + b[:, None] * x)
        r = w * (y - mu)
        h = w * mu * (1.0 - mu)
        g0, g1 = r.sum(axis=1), r @ x
        h00, h01, h11 = h.sum(axis=1), h @ x, h @ (x * x)
        det = h00 * h11 - h01 * h01
        ok = ~done & (det > 1e-12 * np.maximum(h00 * h11, 1e-300))
        da = np.where(ok, _divide(h11 * g0 - h01 * g1, np.where(ok, det, 1.0)), 0.0)
        db = np.where(ok, _divide(h00 * g1 - h01 * g0, np.where(ok, det, 1.0)), 0.0)
        a, b = a + da, b + db
        done |= ~ok | (np.abs(da) + np.abs(db) < 1e-10)
        if done.all():
            break
    # When the classes are (quasi-)separated by the score the slope's MLE does not exist.
    present = w > 0
    pos, neg = present & (y == 1), present & (y == 0)
    lo_pos = np.where(pos, x, np.inf).min(axis=1)
    hi_pos = np.where(pos, x, -np.inf).max(axis=1)
    lo_neg = np.where(neg, x, np.inf).min(axis=1)
    hi_neg = np.where(neg, x, -np.inf).max(axis=1)
    separated = (hi_neg <= lo_pos) | (hi_pos <= lo_neg)
    finite = np.isfinite(a) & np.isfinite(b)
    slope = np.where(defined & ~separated & finite & done, b, np.nan)

    # Intercept: logit P(y) = a + 1 * logit(p) (calibration-in-the-large); concave in a.
    c = np.zeros(w.shape[0])
    for _ in range(_MAX_NEWTON):
        mu = _expit(c[:, None] + x)
        step = _divide((w * (y - mu)).sum(axis=1), (w * mu * (1.0 - mu)).sum(axis=1))
        step = np.where(defined, np.nan_to_num(step), 0.0)
        c = c + step
        if np.all(np.abs(step) < 1e-12):
            break
    intercept = np.where(defined, c, np.nan)
    return slope, intercept


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
    return _divide(tp, flagged.sum(axis=1)), _divide(tp, w @ cap.y)


# --------------------------------------------------------------------------- resampling


def _resample_weights(rng: np.random.Generator, n: int, n_boot: int) -> list[NDArray[np.float64]]:
    """Multinomial bootstrap counts, ``n_boot`` x ``n``, in chunks that fit in memory."""
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    out = []
    for lo in range(0, n_boot, chunk):
        b = min(chunk, n_boot - lo)
        idx = rng.integers(0, n, size=(b, n)) + n * np.arange(b)[:, None]
        out.append(np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(np.float64))
    return out


def _interval(values: FloatArray, alpha: float) -> tuple[float, float, int]:
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


def _prepare(y: ArrayLike, p: ArrayLike, *, probability: bool = True) -> _Sorted:
    yy = _labels(y)
    return _Sorted.of(yy, _scores(p, yy.shape[0], probability=probability))


def _ones(s: _Sorted) -> FloatArray:
    return np.ones((1, s.y.shape[0]))


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
    return float(_w_auc(s, _ones(s))[0])


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
    return float(_w_ece(s, _ones(s), n_bins)[0])


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
    slope, intercept = _w_calibration(s, _ones(s))
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
_VECTORISED: dict[Callable[..., float], Callable[[_Sorted, FloatArray], FloatArray]] = {
    roc_auc: _w_auc,
    pr_auc: _w_average_precision,
    brier: _w_brier,
    log_loss: _w_log_loss,
    ece: lambda s, w: _w_ece(s, w, 10),
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
        values = np.concatenate([fast(s, w[:, s.order]) for w in _resample_weights(rng, n, n_boot)])
    else:
        values = np.empty(n_boot)
        for b in range(n_boot):
            idx = rng.integers(0, n, size=n)
            values[b] = metric_fn(*(c[idx] for c in cols))
    lo, hi, skipped = _interval(values, alpha)
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


def _all_metrics(
    s: _Sorted,
    w_sorted: FloatArray,
    cap: _Capacity | None,
    w_cap: FloatArray | None,
    oracle: _Sorted | None,
    w_oracle: FloatArray | None,
) -> dict[str, FloatArray]:
    slope, intercept = _w_calibration(s, w_sorted)
    out = {
        "roc_auc": _w_auc(s, w_sorted),
        "pr_auc": _w_average_precision(s, w_sorted),
        "brier": _w_brier(s, w_sorted),
        "log_loss": _w_log_loss(s, w_sorted),
        "ece": _w_ece(s, w_sorted, 10),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
    }
    if cap is not None and w_cap is not None:
        out["precision_at_capacity"], out["recall_at_capacity"] = _w_precision_recall(cap, w_cap)
    if oracle is not None and w_oracle is not None:
        out["oracle_roc_auc"] = _w_auc(oracle, w_oracle)
        out["oracle_brier"] = _w_brier(oracle, w_oracle)
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
    s = _Sorted.of(yy, pp)
    cap = None if capacity is None else _capacity(yy, pp, groups, capacity, tie_break)
    orc = None if oracle is None else _Sorted.of(yy, _scores(oracle, n, "oracle"))

    def run(w: FloatArray) -> dict[str, FloatArray]:
        return _all_metrics(
            s,
            w[:, s.order],
            cap,
            None if cap is None else w[:, cap.order],
            orc,
            None if orc is None else w[:, orc.order],
        )

    point = run(np.ones((1, n)))
    result: dict[str, float] = {key: float(v[0]) for key, v in point.items()}
    result.setdefault("precision_at_capacity", float("nan"))
    result.setdefault("recall_at_capacity", float("nan"))
    result["prevalence"] = float(yy.mean()) if n else float("nan")
    result["n"] = float(n)

    keys = [k for k in (*CI_KEYS, "oracle_roc_auc", "oracle_brier") if k in point]
    boots: dict[str, list[FloatArray]] = {k: [] for k in keys}
    if n_boot > 0 and n > 0:
        for w in _resample_weights(np.random.default_rng(seed), n, n_boot):
            for key, v in run(w).items():
                boots[key].append(v)
    skipped = 0
    for key in (*CI_KEYS, "oracle_roc_auc", "oracle_brier"):
        if key not in point and key.startswith("oracle"):
            continue
        lo, hi = float("nan"), float("nan")
        if boots.get(key):
            lo, hi, sk = _interval(np.concatenate(boots[key]), alpha)
            skipped = max(skipped, sk)
        result[f"{key}_ci_low"], result[f"{key}_ci_high"] = lo, hi
    result["n_boot"] = float(n_boot)
    result["n_boot_skipped"] = float(skipped)
    return result
