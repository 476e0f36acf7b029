"""The weighted engine under every metric: validation, sorted runs, kernels and resampling.

Every metric is computed from a weight matrix ``W`` of shape ``(n_resamples, n)`` holding how
many times each row appears in each resample. The point estimate uses a single row of ones; a
bootstrap uses multinomial counts. One code path serves both, so an interval is always an
interval around the number it reports, and a bootstrap of 76,000 rows takes a few array passes
instead of hundreds of Python calls. The public functions are in ``risk/_metrics.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from features import InputError

FloatArray = NDArray[np.float64]

#: Probabilities are clipped to ``[EPS, 1 - EPS]`` before a logarithm (as scikit-learn does).
EPS = float(np.finfo(np.float64).eps)

#: Largest number of weight-matrix cells held in memory at once during a bootstrap.
_CHUNK_CELLS = 1_000_000

#: Equal-mass bins of the ECE wherever the project reports it (DESIGN.md section 7).
ECE_BINS = 10

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


def _prepare(y: ArrayLike, p: ArrayLike, *, probability: bool = True) -> SortedScores:
    yy = _labels(y)
    return SortedScores.of(yy, _scores(p, yy.shape[0], probability=probability))


def _ones(s: SortedScores) -> Runs:
    return Runs.of(s, np.ones((1, s.y.shape[0])))
