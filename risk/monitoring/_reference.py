"""The training reference: what a model saves so that its scoring runs can be compared with it.

Per-source record volumes in the lookback window (per family, overall and per district), the
quantile bins of every feature and of the score. Counts and distributions only: no family id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from features import DEFAULT_LOOKBACK_DAYS, InputError, Records
from risk.monitoring._drift import N_BINS, Bins, quantile_bins
from risk.monitoring._volumes import window_volumes

#: Name of the reference file saved beside a model.
REFERENCE_FILE = "reference.json"

#: Format version written into the file.
FORMAT = 1


class ReferenceError(InputError):
    """A reference file cannot be read: the message names the file and what is wrong."""


@dataclass(frozen=True)
class Reference:
    """The distributions a model was trained on.

    Attributes
    ----------
    as_of : str
        The as-of date (YYYY-MM-DD) the reference was computed at.
    lookback_days : int
    n_families : int
        Families in the population at ``as_of``.
    per_family : mapping of str to float
        Events per family in the lookback window, per source, over the whole population.
    by_district : mapping of str to mapping
        Per district: ``{"families": n, "per_family": {source: events per family}}``.
    features : mapping of str to Bins
        Quantile bins of each feature.
    score : Bins
        Quantile bins of the calibrated score.
    """

    as_of: str
    lookback_days: int
    n_families: int
    per_family: Mapping[str, float]
    by_district: Mapping[str, Mapping[str, Any]]
    features: Mapping[str, Bins] = field(repr=False)
    score: Bins = field(repr=False)

    def district_rate(self, district: str, source: str) -> float:
        """Events per family of ``source`` expected in ``district`` (else the overall rate)."""
        d = self.by_district.get(district)
        if d is None:
            return float(self.per_family.get(source, 0.0))
        return float(d["per_family"].get(source, 0.0))

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        return {
            "format": FORMAT,
            "as_of": self.as_of,
            "lookback_days": self.lookback_days,
            "n_families": self.n_families,
            "volumes": {"per_family": dict(self.per_family), "by_district": self.by_district},
            "features": {k: b.to_dict() for k, b in self.features.items()},
            "score": self.score.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        """Inverse of :meth:`to_dict`."""
        return cls(
            as_of=str(data["as_of"]),
            lookback_days=int(data["lookback_days"]),
            n_families=int(data["n_families"]),
            per_family={k: float(v) for k, v in data["volumes"]["per_family"].items()},
            by_district={
                str(k): {"families": int(v["families"]), "per_family": dict(v["per_family"])}
                for k, v in data["volumes"]["by_district"].items()
            },
            features={k: Bins.from_dict(v) for k, v in data["features"].items()},
            score=Bins.from_dict(data["score"]),
        )


def reference_profile(
    records: Records,
    as_of: object,
    features_frame: pd.DataFrame,
    scores: ArrayLike,
    *,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    n_bins: int = N_BINS,
) -> Reference:
    """Compute the reference a model saves at training time.

    Parameters
    ----------
    records : Records
        The training records.
    as_of : date-like
        The as-of date of the reference population (e.g. the last training date).
    features_frame : pandas.DataFrame
        Features of the population at ``as_of``, indexed by ``family_id``
        (``features.build_features``).
    scores : array-like
        The model's calibrated scores of the same rows, in the same order.
    lookback_days : int, default 1095
        The model's lookback.
    n_bins : int, default 10
        Quantile bins per feature and for the score.

    Returns
    -------
    Reference
    """
    p = np.asarray(scores, dtype=np.float64).ravel()
    if len(p) != len(features_frame):
        raise InputError(
            f"reference_profile: {len(p)} scores for {len(features_frame)} rows of features"
        )
    volumes = window_volumes(records, as_of, features_frame.index, lookback_days)
    n_families = int(len(features_frame))
    totals = volumes.groupby("source", sort=False)["events"].sum()
    by_district: dict[str, dict[str, Any]] = {}
    for district, part in volumes.groupby("district", sort=True):
        by_district[str(district)] = {
            "families": int(part["families"].iloc[0]),
            "per_family": dict(zip(part["source"], part["per_family"].astype(float), strict=True)),
        }
    numeric = [
        c for c in features_frame.columns if pd.api.types.is_numeric_dtype(features_frame[c])
    ]
    return Reference(
        as_of=str(pd.Timestamp(as_of).date()),  # type: ignore[arg-type]
        lookback_days=int(lookback_days),
        n_families=n_families,
        per_family={str(s): float(n) / max(n_families, 1) for s, n in totals.items()},
        by_district=by_district,
        features={c: quantile_bins(features_frame[c], n_bins) for c in numeric},
        score=quantile_bins(p, n_bins),
    )


def save_reference(reference: Reference, path: str | os.PathLike[str]) -> Path:
    """Write ``reference`` as JSON to ``path`` (a file, or a directory for ``reference.json``)."""
    target = Path(path)
    if target.is_dir():
        target = target / REFERENCE_FILE
    target.write_text(json.dumps(reference.to_dict(), indent=1, sort_keys=True), "utf-8")
    return target


def load_reference(path: str | os.PathLike[str]) -> Reference:
    """Read a reference written by :func:`save_reference` (a file or a directory holding one).

    Raises
    ------
    ReferenceError
        No such file, not JSON, or a key is missing.

    Examples
    --------
    >>> load_reference("/nonexistent")
    Traceback (most recent call last):
    ...
    risk.monitoring._reference.ReferenceError: /nonexistent: no such reference file
    """
    source = Path(path)
    if source.is_dir():
        source = source / REFERENCE_FILE
    if not source.is_file():
        raise ReferenceError(f"{source}: no such reference file")
    try:
        return Reference.from_dict(json.loads(source.read_text("utf-8")))
    except json.JSONDecodeError as exc:
        raise ReferenceError(f"{source}: not valid JSON ({exc})") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceError(
            f"{source}: not a reference file ({exc!r} is missing or wrong)"
        ) from None
