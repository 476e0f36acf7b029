"""The scoring model: a LightGBM booster and an exactly decomposable calibration.

The displayed log-odds is an affine map of the booster's margin,
``log_odds = intercept + slope * margin``, fitted on the validation snapshot (Platt scaling on
the margin). Because the map is affine, Shapley contributions of the margin scaled by ``slope``
plus a base of ``intercept + slope * margin(baseline)`` add up to the displayed log-odds exactly.

What a contribution is measured against: a model trained since the reference was kept carries
a **typical family** (``reference``: each input's median over the training population) and its
contributions are the exact Shapley values of the margin against that one family (interventional
TreeSHAP with a single background row). Each says how much the family's own value of a signal,
instead of the typical family's, moves its log-odds. Under a monotone constraint that answer
has the constraint's sign: a family with more of a problem than the typical family is never
shown that problem as lowering its estimate, which the average-family baseline of path-dependent
TreeSHAP cannot promise. A model without a reference (saved before it was kept) is explained
against the average family with LightGBM's own TreeSHAP, as before.

The model is saved as a directory holding ``booster.txt`` (LightGBM's own text format: loading it
runs no code) and ``model.json`` (features, calibration, horizon, capacity, version).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import InputError

MODEL_FORMAT = "family-risk-model/1"

#: Rows per LightGBM call in :meth:`RiskModel.margin`.
SCORE_BLOCK_ROWS = 65_536
_TILE_ROWS = 8_192


class ModelError(InputError):
    """A model cannot be loaded or does not fit the data it is given."""


@dataclass(frozen=True)
class Calibration:
    """``log_odds = intercept + slope * margin``."""

    intercept: float = 0.0
    slope: float = 1.0

    def apply(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated log-odds of booster margins."""
        return self.intercept + self.slope * np.asarray(margin, dtype=np.float64)


@dataclass(frozen=True)
class Capacity:
    """Outreach capacity per district for one screening period, and the minimum score."""

    default: int = 25
    per_district: Mapping[str, int] = field(default_factory=dict)
    min_score: float = 0.05

    def for_district(self, district: str) -> int:
        """Capacity of ``district``."""
        return int(self.per_district.get(district, self.default))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True, eq=False)
class RiskModel:
    """A trained, calibrated model and what it needs to be used.

    Attributes
    ----------
    booster : lightgbm.Booster
    features : tuple of str
        Model inputs, in order.
    calibration : Calibration
    horizon_days, lookback_days : int
    capacity : Capacity
        The model definition's capacity: only a fallback for callers who give none (the
        region pack's, :class:`risk.regions.RegionPack`, is what screening uses).
    name, version : str
        Registered name and version (``"local"`` when not registered).
    metadata : dict
        Anything else worth keeping (training run id, metrics, base rate).
    reference : dict of str to float, optional
        The typical family the contributions are measured against: each feature's median
        over the training population (see the module's docstring). None: the average family.
    """

    booster: Any
    features: tuple[str, ...]
    calibration: Calibration = Calibration()
    horizon_days: int = 365
    lookback_days: int = 1095
    capacity: Capacity = Capacity()
    name: str = "family-distress"
    version: str = "local"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reference: Mapping[str, float] | None = None
    _explainer: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.reference is None:
            return
        missing = [f for f in self.features if f not in self.reference]
        extra = [f for f in self.reference if f not in self.features]
        if missing or extra:
            raise ModelError(
                "the reference family must give exactly the model's features; "
                f"missing: {', '.join(missing[:5]) or 'none'}; "
                f"unknown: {', '.join(extra[:5]) or 'none'}"
            )
        bad = [f for f, v in self.reference.items() if not np.isfinite(float(v))]
        if bad:
            raise ModelError(
                f"the reference family's value is not a number for: {', '.join(bad[:5])}"
            )

    def __getstate__(self) -> dict[str, Any]:
        # The explainer is a cache: a pickled model (to a Spark worker, say) builds its own.
        state = dict(self.__dict__)
        state["_explainer"] = []
        return state

    @property
    def baseline(self) -> str:
        """What contributions are measured against: ``"typical"`` or ``"average"`` family."""
        return "average" if self.reference is None else "typical"

    def _check_features(self, X: pd.DataFrame) -> list[np.ndarray]:
        """Return the feature columns as numbers; raise on a missing or inexact one.

        Records read from SQL or Spark arrive as floats and nullable integers: any numeric
        type is taken when it holds the values exactly, a feature the registry counts in
        whole numbers included (missing values stay missing).
        """
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise ModelError(
                f"the input lacks {len(missing)} model feature(s): {', '.join(missing[:5])}"
            )
        whole = self._whole_features()
        return [_numeric(X[name], name, name in whole) for name in self.features]

    def _whole_features(self) -> frozenset[str]:
        # A model trained on a user's table takes doubles; a records model the registry's types.
        if self.metadata.get("feature_source") == "table":
            return frozenset()
        from features import FEATURES

        return frozenset(f for f in self.features if f in FEATURES and FEATURES[f].dtype == "int64")

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack(self._check_features(X)).astype(np.float64, copy=False)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """Return the booster's raw margin (log-odds before calibration).

        The rows go to LightGBM in blocks of :data:`SCORE_BLOCK_ROWS`, each laid out in one
        reused row-major buffer (the layout LightGBM reads without copying), so scoring a
        million families needs no second copy of the feature frame; the margins equal those of
        one call on the whole matrix.
        """
        columns = self._check_features(X)
        n, k = len(X), len(self.features)
        out = np.empty(n, dtype=np.float64)
        rows = np.empty((min(n, SCORE_BLOCK_ROWS), k), dtype=np.float64)
        tile = np.empty((k, _TILE_ROWS), dtype=np.float64)
        for start in range(0, n, SCORE_BLOCK_ROWS):
            stop = min(start + SCORE_BLOCK_ROWS, n)
            # Column slices into a small tile, then the tile transposed into the block: both
            # copies stay within the CPU cache, unlike writing each column with a stride.
            for a in range(start, stop, _TILE_ROWS):
                b = min(a + _TILE_ROWS, stop)
                part = tile[:, : b - a]
                for j, values in enumerate(columns):
                    part[j] = values[a:b]
                rows[a - start : b - start] = part.T
            out[start:stop] = self.booster.predict(rows[: stop - start], raw_score=True)
        return out

    def log_odds(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated log-odds."""
        return self.calibration.apply(self.margin(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of distress within the horizon."""
        return _sigmoid(self.log_odds(X))

    def contributions(self, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Exact per-feature contributions to the calibrated log-odds.

        Against the typical family (:attr:`reference`) when the model has one, else against
        the average family (see the module's docstring).

        Returns
        -------
        (contributions, base)
            A frame (rows of ``X``, columns = model features) and the base log-odds per row
            (the baseline family's); ``contributions.sum(axis=1) + base`` equals
            :meth:`log_odds` to rounding.
        """
        matrix = self._matrix(X)
        slope = self.calibration.slope
        if self.reference is None:
            raw = np.asarray(self.booster.predict(matrix, pred_contrib=True))
            values, base_margin = raw[:, :-1], raw[:, -1]
        else:
            explainer, typical_margin = self._typical_explainer()
            values = np.asarray(explainer.shap_values(matrix, check_additivity=False))
            values = values.reshape(len(matrix), len(self.features)).astype(np.float64)
            base_margin = np.full(len(matrix), typical_margin)
            values = _exact_sums(values, self.margin(X) - base_margin)
        contrib = pd.DataFrame(values * slope, index=X.index, columns=list(self.features))
        base = self.calibration.intercept + slope * base_margin
        return contrib, base

    def _typical_explainer(self) -> tuple[Any, float]:
        """Build (once per model) shap's interventional TreeSHAP against the reference row.

        With it, the typical family's own margin as LightGBM computes it (shap's is single
        precision).
        """
        if not self._explainer:
            import warnings

            assert self.reference is not None
            row = np.array([[float(self.reference[f]) for f in self.features]])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # shap's notes on its own internals
                import shap

                explainer = shap.TreeExplainer(
                    self.booster,
                    data=row,
                    feature_perturbation="interventional",
                    model_output="raw",
                )
            margin = float(self.booster.predict(row, raw_score=True)[0])
            self._explainer.append((explainer, margin))
        return self._explainer[0]

    # ---- persistence -------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``booster.txt`` and ``model.json`` into directory ``path``."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        booster_text = self.booster.model_to_string()
        (out / "booster.txt").write_text(booster_text, encoding="utf-8")
        meta = {
            "format": MODEL_FORMAT,
            "booster_sha256": hashlib.sha256(booster_text.encode("utf-8")).hexdigest(),
            "name": self.name,
            "version": self.version,
            "features": list(self.features),
            "calibration": asdict(self.calibration),
            "horizon_days": self.horizon_days,
            "lookback_days": self.lookback_days,
            "capacity": {
                "default": self.capacity.default,
                "per_district": dict(self.capacity.per_district),
                "min_score": self.capacity.min_score,
            },
            "metadata": _jsonable(dict(self.metadata)),
        }
        if self.reference is not None:
            meta["reference"] = {f: float(self.reference[f]) for f in self.features}
        (out / "model.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RiskModel:
        """Read a model directory written by :meth:`save`."""
        import lightgbm as lgb

        root = Path(path)
        meta_file, booster_file = root / "model.json", root / "booster.txt"
        for f in (meta_file, booster_file):
            if not f.exists():
                raise ModelError(f"{root}: not a model directory ({f.name} is missing)")
        try:
            meta = json.loads(meta_file.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelError(f"{meta_file}: not valid JSON ({exc})") from exc
        if meta.get("format") != MODEL_FORMAT:
            raise ModelError(f"{meta_file}: format {meta.get('format')!r} is not {MODEL_FORMAT!r}")
        _check_meta_types(meta_file, meta)
        booster_text = _checked_booster_text(booster_file, meta)
        try:
            booster = lgb.Booster(model_str=booster_text)
            cap = meta["capacity"]
            return cls(
                booster=booster,
                features=tuple(meta["features"]),
                calibration=Calibration(**meta["calibration"]),
                horizon_days=int(meta["horizon_days"]),
                lookback_days=int(meta["lookback_days"]),
                capacity=Capacity(
                    default=int(cap["default"]),
                    per_district={k: int(v) for k, v in cap["per_district"].items()},
                    min_score=float(cap["min_score"]),
                ),
                name=str(meta["name"]),
                version=str(meta["version"]),
                metadata=meta.get("metadata", {}),
                reference=meta.get("reference"),
            )
        except KeyError as exc:
            raise ModelError(f"{meta_file}: key {exc} is missing") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"{meta_file}: malformed value ({exc})") from exc
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"{booster_file}: not a LightGBM model ({exc})") from exc

    def with_version(self, version: str, name: str | None = None) -> RiskModel:
        """Return a copy carrying a registry name and version."""
        from dataclasses import replace

        return replace(self, version=str(version), name=name or self.name)

    def with_reference(self, X: pd.DataFrame) -> RiskModel:
        """Return a copy whose typical family is each feature's median over the rows of ``X``.

        Examples
        --------
        >>> import lightgbm as lgb
        >>> X = pd.DataFrame({"n": [0.0, 1, 2, 3, 9] * 20, "m": [1.0, 0] * 50})
        >>> booster = lgb.train({"verbose": -1, "min_data_in_leaf": 5},
        ...                     lgb.Dataset(X, (X["n"] > 2).astype(int)), 3)
        >>> RiskModel(booster, ("n", "m")).with_reference(X).reference
        {'n': 2.0, 'm': 0.5}
        """
        from dataclasses import replace

        matrix = self._matrix(X)
        if not len(matrix):
            raise ModelError("the reference family needs at least one row")
        medians = np.nanmedian(matrix, axis=0)
        return replace(self, reference=dict(zip(self.features, map(float, medians), strict=True)))

    def check_features(self, registry: Sequence[str]) -> None:
        """Raise :class:`ModelError` naming what differs from the installed feature registry."""
        unknown = [f for f in self.features if f not in registry]
        if unknown:
            raise ModelError(
                f"model {self.name} version {self.version} uses {len(unknown)} feature(s) the "
                f"installed registry does not have: {', '.join(unknown[:10])}"
            )


def _exact_sums(values: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Make each row of ``values`` add up to ``total`` exactly, keeping every sign.

    shap accumulates in single precision: its rows miss the margin by up to about 1e-6 on a few
    hundred trees. That residual is spread over a row's contributions in proportion to their
    size: a zero stays zero, and a sign could only change if the residual exceeded the sum of
    the row's sizes.

    Examples
    --------
    >>> _exact_sums(np.array([[0.3, -0.1, 0.0]]), np.array([0.2000004])).round(7).tolist()
    [[0.3000003, -0.0999999, 0.0]]
    """
    residual = total - values.sum(axis=1)
    size = np.abs(values)
    weight = size.sum(axis=1)
    share = np.divide(size, weight[:, None], out=np.zeros_like(size), where=weight[:, None] > 0)
    return values + residual[:, None] * share


#: Types of the keys of ``model.json`` (a dotted key is nested).
_META_TYPES: dict[str, type | tuple[type, ...]] = {
    "features": list,
    "calibration": dict,
    "calibration.slope": (int, float),
    "calibration.intercept": (int, float),
    "horizon_days": int,
    "lookback_days": int,
    "capacity": dict,
    "capacity.default": int,
    "capacity.per_district": dict,
    "capacity.min_score": (int, float),
    "name": str,
    "version": str,
    "metadata": dict,
    "reference": dict,
}


def _check_meta_types(meta_file: Path, meta: Any) -> None:
    """Refuse a ``model.json`` whose values have the wrong type, naming the key."""
    if not isinstance(meta, dict):
        raise ModelError(f"{meta_file}: expected a JSON object, got {type(meta).__name__}")
    for key, kind in _META_TYPES.items():
        head, _, tail = key.partition(".")
        value = meta.get(head) if not tail else meta.get(head, {}).get(tail, None)
        if value is None and (tail or head not in meta):
            continue  # a missing key is reported where it is read
        if not isinstance(value, kind) or isinstance(value, bool):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise ModelError(f"{meta_file}: key {key!r} must be {names}; got {value!r}")


def _checked_booster_text(booster_file: Path, meta: Mapping[str, Any]) -> str:
    """Read ``booster.txt`` and refuse it when damaged: a truncated text aborts LightGBM's parser.

    Models saved since ``booster_sha256`` was added are checked against it; older ones at least
    for the end-of-trees marker.
    """
    try:
        text = booster_file.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"{booster_file}: not a LightGBM model (not UTF-8 text: {exc})") from exc
    expected = meta.get("booster_sha256")
    if expected is not None and hashlib.sha256(text.encode("utf-8")).hexdigest() != expected:
        raise ModelError(
            f"{booster_file}: not a LightGBM model (its SHA-256 differs from booster_sha256 in "
            "model.json: damaged or altered)"
        )
    if "\nend of trees" not in text:
        raise ModelError(f"{booster_file}: not a LightGBM model (truncated: no end of trees)")
    return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


#: ``pandas.api.types.infer_dtype`` kinds of a column that holds numbers (or nothing).
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "boolean", "empty"})


def _numeric(column: pd.Series, name: str = "", whole: bool = False) -> np.ndarray:
    """Return a feature column as numbers: its NumPy array if it has one, else float64 with NaN.

    Raises
    ------
    ModelError
        A value is not a number, or (``whole``) a number that is not whole, naming the feature
        and the row.

    Examples
    --------
    >>> _numeric(pd.Series(pd.array([2, None], dtype="Int64")), "n", whole=True)
    array([ 2., nan])
    >>> _numeric(pd.Series([1.0, 2.5]), "n_events", whole=True)
    Traceback (most recent call last):
    ...
    risk._model.ModelError: feature 'n_events' counts in whole numbers, but row 1 holds 2.5
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return column.to_numpy()
    if not (isinstance(dtype, np.dtype) and dtype.kind == "f"):
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind not in _NUMBER_KINDS:
            bad = next(
                i
                for i, v in enumerate(column.to_numpy(dtype=object))
                if not (pd.isna(v) or isinstance(v, (int, float, np.number)))
            )
            raise ModelError(
                f"feature {name!r} must hold numbers, but row {_row(column, bad)!r} holds "
                f"{column.iloc[bad]!r} ({dtype})"
            )
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if whole:
        inexact = np.isfinite(values) & (values != np.trunc(values))
        inexact |= np.isinf(values)
        if inexact.any():
            i = int(np.flatnonzero(inexact)[0])
            more = int(inexact.sum()) - 1
            also = f" (and {more} more row{'s' * (more != 1)})" if more else ""
            raise ModelError(
                f"feature {name!r} counts in whole numbers, but row {_row(column, i)!r} holds "
                f"{float(values[i])!r}{also}"
            )
    return values


def _row(column: pd.Series, position: int) -> object:
    """Return the index label of a row as a plain Python value (for messages)."""
    label = column.index[position]
    return label.item() if isinstance(label, np.generic) else label
