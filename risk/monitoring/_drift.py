"""Population stability index (PSI): how far a distribution moved from the training reference.

For bins ``i`` fixed on the reference (its quantiles), with ``e_i`` the reference's share of rows
in bin ``i`` and ``a_i`` the current share::

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

Shares of empty bins are raised to ``epsilon`` (1e-4) before the sum, so that a bin that empties
or fills adds a large but finite term. Common reading: below 0.1 stable, 0.1 to 0.25 a moderate
shift, above 0.25 a major shift (the thresholds of a model live in its definition).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

#: Floor of a bin's share in the PSI sum.
EPSILON = 1e-4

#: Number of quantile bins fitted on the reference.
N_BINS = 10

#: Columns of :attr:`DriftReport.table`.
DRIFT_COLUMNS: tuple[str, ...] = ("feature", "psi", "bins")


@dataclass(frozen=True)
class Bins:
    """Quantile bins of a reference distribution and the reference's share of rows in each.

    Bin ``i`` holds values ``x`` with ``edges[i-1] < x <= edges[i]``; the first bin is open below
    and the last open above, so ``len(shares) == len(edges) + 1``.
    """

    edges: tuple[float, ...]
    shares: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        """Plain lists, for JSON."""
        return {"edges": list(self.edges), "shares": list(self.shares)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[float]]) -> Bins:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(float(x) for x in data["edges"]), tuple(float(x) for x in data["shares"]))


def _finite(values: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def quantile_bins(values: ArrayLike, n_bins: int = N_BINS) -> Bins:
    """Fit quantile bins on reference values.

    Edges are the distinct inner quantiles (observed values), so a point mass (a count feature
    that is mostly 0) gets one bin rather than several empty ones.

    Examples
    --------
    >>> b = quantile_bins([0, 0, 0, 0, 1, 2, 3, 4], n_bins=4)
    >>> b.edges, b.shares
    ((0.0, 2.0), (0.5, 0.25, 0.25))
    """
    x = _finite(values)
    if len(x) == 0:
        return Bins((), (1.0,))
    # "lower": edges are observed values, so no bin falls between two values of a count.
    inner = np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1], method="lower")
    edges = tuple(float(e) for e in np.unique(inner))
    return Bins(edges, tuple(float(s) for s in bin_shares(x, edges)))


def bin_shares(values: ArrayLike, edges: Sequence[float]) -> NDArray[np.float64]:
    """Share of ``values`` in each bin of ``edges`` (see :class:`Bins`); NaN values are dropped.

    Examples
    --------
    >>> bin_shares([0, 0, 1, 5], [0.0, 2.0]).tolist()
    [0.5, 0.25, 0.25]
    """
    x = _finite(values)
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="left"),
        minlength=len(edges) + 1,
    )
    return counts / max(len(x), 1)


def psi(expected: ArrayLike, actual: ArrayLike, epsilon: float = EPSILON) -> float:
    """Compute the population stability index of bin shares ``actual`` against ``expected``.

    Parameters
    ----------
    expected, actual : array-like of shape (n_bins,)
        Shares of rows per bin (each sums to 1), reference first.
    epsilon : float, default 1e-4
        Floor of a share, so that empty bins give a finite index.

    Examples
    --------
    >>> psi([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> round(psi([0.5, 0.5], [0.25, 0.75]), 4)
    0.2747
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), epsilon)
    a = np.maximum(np.asarray(actual, dtype=np.float64), epsilon)
    if e.shape != a.shape:
        raise ValueError(f"psi: {e.shape[0]} reference bins but {a.shape[0]} current bins")
    return float(np.sum((a - e) * np.log(a / e)))


def psi_against(bins: Bins, values: ArrayLike, epsilon: float = EPSILON) -> float:
    """PSI of ``values`` against reference ``bins``."""
    return psi(bins.shares, bin_shares(values, bins.edges), epsilon)


@dataclass(frozen=True)
class DriftReport:
    """Drift of one scoring run against the training reference.

    Attributes
    ----------
    score_psi : float
        PSI of the calibrated score.
    table : pandas.DataFrame
        One row per feature in the reference and the run (:data:`DRIFT_COLUMNS`), the largest
        PSI first (ties by name).
    """

    score_psi: float
    table: pd.DataFrame

    def top(self, n: int = 5) -> tuple[str, ...]:
        """Names of the ``n`` features that drifted most."""
        return tuple(self.table["feature"].head(n))

    @property
    def max_feature_psi(self) -> float:
        """The largest feature PSI (0 when no feature was compared)."""
        return float(self.table["psi"].max()) if len(self.table) else 0.0


def drift_report(
    feature_bins: Mapping[str, Bins],
    score_bins: Bins,
    features: pd.DataFrame,
    scores: ArrayLike,
) -> DriftReport:
    """PSI of every feature held in both the reference and ``features``, and of the score.

    Parameters
    ----------
    feature_bins : mapping of str to Bins
        The reference's bins per feature.
    score_bins : Bins
        The reference's bins of the score.
    features : pandas.DataFrame
        The run's features, one column per feature.
    scores : array-like
        The run's calibrated scores.
    """
    rows = [
        {"feature": name, "psi": psi_against(b, features[name]), "bins": len(b.shares)}
        for name, b in feature_bins.items()
        if name in features.columns
    ]
    table = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    table = table.sort_values(["psi", "feature"], ascending=[False, True], kind="stable")
    return DriftReport(psi_against(score_bins, scores), table.reset_index(drop=True))
