"""Training on any feature table: users who bring their own features and a binary label.

:func:`train_table` is pure (a DataFrame in, a :class:`~training._pipeline.TrainingRun` out) and
produces the same run as the records pipeline, so ``log_training_run``, the model card and the
promotion gates work on it unchanged. What differs, and is written into ``TrainingRun.notes``
(the card lists them) and the model's metadata (``"feature_source": "table"``):

- **Inputs**: every numeric or bool column except the label, the group columns (audit only), the
  id column (tie-breaking only) and the columns the model definition excludes
  (``[features] exclude``). A column of any other dtype (strings, categories, dates) is an error
  naming it: strings never silently become features. Pass such columns as ``groups``,
  ``id_column`` or ``drop``.
- **Split**: random, stratified by the label (:class:`RandomSplit`): train, validation (early
  stopping and calibration) and test.
- **Baseline** ``rule``: there is no current-practice rule for a user table, so ``rule_test_*``
  is the best single feature chosen on the training rows (largest ``|AUC - 0.5|``, in the
  direction it points), scored by its training empirical CDF. The promotion gate ``beats rule``
  then asks the model to beat the strongest column alone.
- **Capacity** for precision and recall at capacity and the audit's flags: when a group column
  is named ``district``, the model definition's capacity per district (as for records);
  otherwise a global top-k of ``capacity.default * max(1, n_test / 5000)`` test rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from features import InputError
from risk._metrics import evaluate
from risk._model import Capacity, RiskModel
from training._config import ModelConfig
from training._fit import fit_lightgbm, fit_logreg
from training._pipeline import (
    Evaluation,
    Progress,
    StageTimer,
    TrainingRun,
    _flat_metrics,
    explain_sample,
    outcome_summary,
)

#: Fewest positive (and negative) rows each of train, validation and test must hold.
MIN_CLASS_ROWS = 5

#: Test rows per ``capacity.default`` flags when there is no ``district`` group column.
ROWS_PER_CAPACITY = 5000

#: Column names the evaluation frame uses itself; groups and ids cannot take them.
RESERVED = ("score", "label", "row")

#: Audit attribute used when the table has no group column: one group holding every row.
ALL = "all"


class TableError(InputError):
    """The feature table cannot be trained on: the message names the column and what is wrong."""


@dataclass(frozen=True)
class RandomSplit:
    """A random split of table rows, stratified by the label."""

    test_size: float
    validation_size: float
    seed: int
    stratified_by: str

    def describe(self) -> dict[str, str]:
        """Plain description for the model card and MLflow params.

        Examples
        --------
        >>> RandomSplit(0.2, 0.2, 0, "y").describe()["method"]
        'random, stratified by y'
        """
        train = 1.0 - self.test_size - self.validation_size
        return {
            "method": f"random, stratified by {self.stratified_by}",
            "train_fraction": f"{train:.2f}",
            "validation_fraction": f"{self.validation_size:.2f}",
            "test_fraction": f"{self.test_size:.2f}",
            "seed": str(self.seed),
        }


@dataclass(frozen=True)
class TableColumns:
    """How the table's columns are used."""

    label: str
    groups: tuple[str, ...]
    id_column: str | None
    features: tuple[str, ...]
    excluded: tuple[str, ...]  # numeric columns the model definition excludes
    dropped: tuple[str, ...]  # columns the caller asked to ignore


def _names(cols: Sequence[str]) -> str:
    return ", ".join(f"{c!r}" for c in cols)


def _is_numeric(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_bool_dtype(s.dtype)
        or (
            pd.api.types.is_numeric_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype)
            and not pd.api.types.is_complex_dtype(s.dtype)
        )
    )


def table_columns(
    frame: pd.DataFrame,
    *,
    label: str,
    groups: Sequence[str] = (),
    id_column: str | None = None,
    drop: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> TableColumns:
    """Check the roles of the table's columns and name the model inputs.

    Raises :class:`TableError` naming the column for a missing label, group, id or dropped column,
    a column given two roles, a reserved name, or a non-numeric column that would be an input.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [0, 1], "x": [1.0, 2.0], "area": ["a", "b"], "key": ["k1", "k2"]})
    >>> table_columns(df, label="y", groups=["area"], id_column="key").features
    ('x',)
    >>> table_columns(df, label="y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training._table.TableError: non-numeric column(s) 'area' (str), 'key' (str) cannot be ...
    """
    roles: dict[str, list[str]] = {}
    for role, cols in (
        ("label", [label]),
        ("group", list(groups)),
        ("id", [] if id_column is None else [id_column]),
        ("drop", list(drop)),
    ):
        for c in cols:
            roles.setdefault(c, []).append(role)
    clash = {c: r for c, r in roles.items() if len(r) > 1}
    if clash:
        what = "; ".join(f"{c!r} is given as {' and '.join(r)}" for c, r in clash.items())
        raise TableError(f"a column can have only one role: {what}")
    missing = [f"{r[0]} column {c!r}" for c, r in roles.items() if c not in frame.columns]
    if missing:
        raise TableError(
            f"the table has no {', no '.join(missing)} (columns: {_names(list(frame.columns)[:20])}"
            f"{', …' if frame.shape[1] > 20 else ''})"
        )
    reserved = [c for c in (*groups, *([id_column] if id_column else [])) if c in RESERVED]
    if reserved:
        raise TableError(
            f"group or id column(s) {_names(reserved)} take a name the evaluation uses itself "
            f"({_names(RESERVED)}); rename them"
        )
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise TableError(f"the table has duplicated column name(s): {_names(duplicated)}")
    candidates = [c for c in frame.columns if c not in roles]
    non_numeric = [c for c in candidates if not _is_numeric(frame[c])]
    if non_numeric:
        found = ", ".join(f"{c!r} ({frame[c].dtype})" for c in non_numeric)
        raise TableError(
            f"non-numeric column(s) {found} cannot be model inputs; pass them as a group "
            "(audit only), the id, or a column to drop, or remove them from the table"
        )
    excluded_set = set(exclude)
    return TableColumns(
        label=label,
        groups=tuple(groups),
        id_column=id_column,
        features=tuple(str(c) for c in candidates if c not in excluded_set),
        excluded=tuple(str(c) for c in candidates if c in excluded_set),
        dropped=tuple(drop),
    )


def table_labels(frame: pd.DataFrame, label: str) -> np.ndarray:
    """Return the label column as 0/1 ``int8``; :class:`TableError` unless binary without NaN.

    Examples
    --------
    >>> table_labels(pd.DataFrame({"y": [True, False]}), "y").tolist()
    [1, 0]
    """
    s = frame[label]
    n_missing = int(s.isna().sum())
    if n_missing:
        raise TableError(f"label column {label!r}: {n_missing:,} value(s) are missing")
    if not _is_numeric(s):
        raise TableError(
            f"label column {label!r} must be binary (0/1 or bool); got dtype {s.dtype}"
        )
    values = s.to_numpy(dtype=np.float64)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        found = pd.unique(values[bad])[:5].tolist()
        raise TableError(
            f"label column {label!r} must be binary (0/1 or bool); {int(bad.sum()):,} value(s) "
            f"are not, e.g. {found}"
        )
    return values.astype(np.int8)


def stratified_split(
    y: np.ndarray, *, test_size: float, validation_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of train, validation and test, each stratified by ``y``.

    ``test_size`` and ``validation_size`` are fractions of all rows.

    Examples
    --------
    >>> tr, va, te = stratified_split(np.r_[np.zeros(80), np.ones(20)], test_size=0.2,
    ...                               validation_size=0.2, seed=0)
    >>> len(tr), len(va), len(te)
    (60, 20, 20)
    """
    from sklearn.model_selection import train_test_split

    if not (0 < test_size < 1 and 0 < validation_size < 1 and test_size + validation_size < 1):
        raise TableError(
            "test_size and validation_size must be in (0, 1) with a sum below 1; got "
            f"{test_size} and {validation_size}"
        )
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    train, valid = train_test_split(
        rest,
        test_size=validation_size / (1.0 - test_size),
        stratify=y[rest],
        random_state=seed,
    )
    return np.sort(train), np.sort(valid), np.sort(test)


def _check_split_classes(y: np.ndarray, parts: dict[str, np.ndarray], label: str) -> None:
    short = []
    for name, rows in parts.items():
        pos = int(y[rows].sum())
        for cls, n in (("positive", pos), ("negative", len(rows) - pos)):
            if n < MIN_CLASS_ROWS:
                short.append(f"{name} has {n} {cls}")
    if short:
        raise TableError(
            f"label column {label!r}: each of train, validation and test needs at least "
            f"{MIN_CLASS_ROWS} positive and {MIN_CLASS_ROWS} negative rows, but "
            f"{'; '.join(short)} (the table has {int(y.sum()):,} positives in {len(y):,} rows)"
        )


@dataclass(frozen=True)
class SingleFeatureRule:
    """The ``rule`` baseline of a table: one column, ranked by its training distribution."""

    feature: str
    direction: int  # +1: higher values rank first; -1: lower values do
    train_auc: float
    sorted_train: np.ndarray

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Training empirical CDF of the column (reversed when ``direction`` is -1), in [0, 1]."""
        x = _neg_inf_for_nan(X[self.feature].to_numpy(dtype=np.float64, na_value=np.nan))
        n = len(self.sorted_train)
        if self.direction > 0:
            return np.searchsorted(self.sorted_train, x, side="right") / n
        return 1.0 - np.searchsorted(self.sorted_train, x, side="left") / n

    def describe(self) -> str:
        """One line for the run and the card."""
        way = "higher" if self.direction > 0 else "lower"
        return (
            f"best single feature `{self.feature}` ({way} values first; "
            f"training AUC {self.train_auc:.3f})"
        )


def _neg_inf_for_nan(x: np.ndarray) -> np.ndarray:
    # A missing value ranks lowest: "no data" never puts a row first.
    return np.where(np.isnan(x), -np.inf, x)


def fit_single_feature_rule(X: pd.DataFrame, y: np.ndarray) -> SingleFeatureRule:
    """Choose the column whose training AUC is farthest from 0.5 (first one on ties).

    Examples
    --------
    >>> X = pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 3, 2, 0]})
    >>> rule = fit_single_feature_rule(X, np.array([0, 0, 1, 1]))
    >>> rule.feature, rule.direction, rule.score(X).tolist()
    ('a', 1, [0.25, 0.5, 0.75, 1.0])
    """
    values = np.column_stack(
        [_neg_inf_for_nan(X[c].to_numpy(dtype=np.float64, na_value=np.nan)) for c in X.columns]
    )
    ranks = pd.DataFrame(values).rank(method="average").to_numpy()
    n1 = float(y.sum())
    n0 = float(len(y) - n1)
    auc = (ranks[y == 1].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)
    best = int(np.argmax(np.abs(auc - 0.5)))
    return SingleFeatureRule(
        feature=str(X.columns[best]),
        direction=1 if auc[best] >= 0.5 else -1,
        train_auc=float(auc[best]),
        sorted_train=np.sort(values[:, best]),
    )


def _capacity_for(
    test: pd.DataFrame, capacity: Capacity
) -> tuple[np.ndarray | None, int | dict[Any, int], str]:
    """Capacity groups, capacity and a plain description (see the module docstring)."""
    if "district" in test.columns:
        districts = test["district"].to_numpy()
        cap = {d: capacity.for_district(str(d)) for d in pd.unique(districts)}
        return (
            districts,
            cap,
            (
                f"the model definition's capacity per value of `district` "
                f"({capacity.default} by default)"
            ),
        )
    k = int(round(capacity.default * max(1.0, len(test) / ROWS_PER_CAPACITY)))
    return (
        None,
        k,
        (
            f"a global top {k:,} of {len(test):,} test rows (no `district` group column: "
            f"capacity.default {capacity.default} × max(1, n_test / {ROWS_PER_CAPACITY:,}))"
        ),
    )


def _evaluate_table_model(
    model: RiskModel,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    test: pd.DataFrame,
    audit_groups: Sequence[str],
    tie: str,
    capacity: Capacity,
    n_boot: int,
) -> Evaluation:
    from risk.fairness import audit

    p = model.predict_proba(X_test)
    cap_groups, cap, _ = _capacity_for(test, capacity)
    metrics = evaluate(
        y_test,
        p,
        groups=cap_groups,
        capacity=cap,
        tie_break=test[tie].to_numpy(),
        n_boot=n_boot,
    )
    frame = test.copy()
    frame["score"] = p
    frame["label"] = y_test
    table = audit(
        frame,
        score="score",
        label="label",
        groups=list(audit_groups),
        top_k=cap,
        top_k_by="district" if cap_groups is not None else None,
        tie_break=tie,
        n_boot=n_boot,
    )
    return Evaluation(metrics=metrics, test=frame, audit=table, audit_distress=None)


def _float_frame(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in cols},
        index=frame.index,
    )


def train_table(
    frame: pd.DataFrame,
    *,
    label: str,
    groups: Sequence[str] = (),
    id_column: str | None = None,
    drop: Sequence[str] = (),
    config: ModelConfig,
    name: str | None = None,
    test_size: float = 0.2,
    validation_size: float = 0.2,
    seed: int = 0,
    n_boot: int = 200,
    progress: Progress | None = None,
) -> TrainingRun:
    """Train, calibrate, evaluate and audit a model on a user's feature table.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit (family); not modified.
    label : str
        Binary label column (0/1 or bool, no missing value).
    groups : sequence of str
        Columns the fairness audit groups by; never model inputs. A column named ``district``
        also sets the capacity per district.
    id_column : str, optional
        Row identifier, used only to break ties between equal scores; never a model input.
    drop : sequence of str
        Columns to ignore entirely.
    config : ModelConfig
        The model definition: LightGBM parameters, capacity, exclusions, promotion gates.
    name : str, optional
        Registered model name (default: ``config.model.name``).
    test_size, validation_size : float
        Fractions of all rows held out for testing, and for early stopping and calibration.
    seed : int
        Seed of the split.
    n_boot : int
        Bootstrap resamples for intervals.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    TrainingRun
        With ``split`` a :class:`RandomSplit`, no comparison model, and ``notes`` saying how the
        run departs from the records pipeline.

    Raises
    ------
    TableError
        A column is missing, has two roles, is not numeric but would be an input; the label is
        not binary or has missing values; a split lacks positives or negatives.
    """
    say = progress or (lambda _stage: None)
    timer = StageTimer()
    lap = timer.lap

    cols = table_columns(
        frame,
        label=label,
        groups=groups,
        id_column=id_column,
        drop=drop,
        exclude=config.features.exclude,
    )
    if not cols.features:
        raise TableError(
            f"the table has no numeric column left to be a model input (label {label!r}, "
            f"groups {_names(cols.groups) or 'none'}, id {id_column!r}, excluded by the model "
            f"definition {_names(cols.excluded) or 'none'})"
        )
    y = table_labels(frame, label)
    tr, va, te = stratified_split(
        y, test_size=test_size, validation_size=validation_size, seed=seed
    )
    _check_split_classes(y, {"train": tr, "validation": va, "test": te}, label)
    split = RandomSplit(
        test_size=test_size, validation_size=validation_size, seed=seed, stratified_by=label
    )
    X = _float_frame(frame, cols.features)
    X.index = pd.RangeIndex(len(X))
    lap("validate")

    model_name = name or config.model.name
    rule_desc = "best single feature chosen on the training rows"
    config = replace(
        config,
        model=replace(config.model, name=model_name),
        rule="best_single_feature",
    )
    capacity = Capacity(
        default=config.capacity.default,
        per_district=dict(config.capacity.per_district),
        min_score=config.capacity.min_score,
    )
    say(f"fitting LightGBM on {len(tr):,} rows and {len(cols.features)} features")
    fit = fit_lightgbm(
        X.iloc[tr],
        y[tr],
        X.iloc[va],
        y[va],
        features=cols.features,
        params=config.lightgbm.params,
        num_boost_round=config.lightgbm.num_boost_round,
        early_stopping_rounds=config.lightgbm.early_stopping_rounds,
        horizon_days=config.model.horizon_days,
        lookback_days=config.model.lookback_days,
        capacity=capacity,
        name=model_name,
    )
    lap("fit")
    say("fitting baselines")
    # The logistic regression cannot take NaN: training medians stand in (LightGBM keeps NaN).
    medians = X.iloc[tr].median().fillna(0.0)
    logreg = fit_logreg(X.iloc[tr].fillna(medians), y[tr], cols.features)
    rule = fit_single_feature_rule(X.iloc[tr], y[tr])
    lap("baselines")

    say("evaluating on the test rows")
    X_test, y_test = X.iloc[te], y[te]
    test = pd.DataFrame(index=X_test.index)
    for g in cols.groups:
        values = frame[g].iloc[te].to_numpy()
        test[g] = (
            pd.Series(values, dtype=object)
            .where(pd.notna(values), "missing")
            .astype(str)
            .to_numpy()
            if g == "district"
            else values
        )
    audit_groups: tuple[str, ...] = cols.groups
    if not audit_groups:
        test[ALL] = ALL
        audit_groups = (ALL,)
    if cols.id_column is not None:
        test[cols.id_column] = frame[cols.id_column].iloc[te].astype(str).to_numpy()
        tie = cols.id_column
    else:
        test["row"] = te
        tie = "row"
    evaluation = _evaluate_table_model(
        fit.model, X_test, y_test, test, audit_groups, tie, capacity, n_boot
    )
    cap_groups, cap, cap_desc = _capacity_for(test, capacity)
    base_kwargs: dict[str, Any] = {
        "groups": cap_groups,
        "capacity": cap,
        "tie_break": test[tie].to_numpy(),
        "n_boot": n_boot,
    }
    base_eval = {
        "logreg": evaluate(
            y_test,
            logreg.predict_proba(X_test.fillna(medians).to_numpy(np.float64))[:, 1],
            **base_kwargs,
        ),
        "rule": evaluate(y_test, rule.score(X_test), **base_kwargs),
    }
    uncal = 1 / (1 + np.exp(-fit.model.margin(X_test)))
    before = evaluate(y_test, uncal, n_boot=0)
    lap("evaluate")

    say("explaining a sample of the test rows")
    contrib, X_sample = explain_sample(fit.model, X_test)
    lap("shap_sample")

    metrics = _flat_metrics(evaluation.metrics, base_eval, before)
    metrics["best_iteration"] = float(fit.best_iteration)
    notes = (
        "Features come from a user-supplied table (feature_source = table), not from the "
        f"feature registry; the label is the column `{label}`. The horizon and lookback shown "
        "are the model definition's and do not describe the table.",
        f"Group columns (audit only, never model inputs): {_names(cols.groups) or 'none'}; "
        f"id column (tie-breaking only): {id_column!r}"
        + (f"; dropped on request: {_names(cols.dropped)}" if cols.dropped else "")
        + (
            f"; left out because the model definition excludes them: {_names(cols.excluded)}"
            if cols.excluded
            else ""
        )
        + ".",
        f"Baseline `rule`: there is no current-practice rule for a user table; `rule_test_*` "
        f"is the {rule_desc}: {rule.describe()}.",
        f"Capacity for precision and recall at capacity and the audit's flags: {cap_desc}.",
    )
    model = replace(
        fit.model,
        capacity=capacity,
        name=model_name,
        metadata={
            "feature_source": "table",
            "label": label,
            "groups": list(cols.groups),
            "id_column": id_column,
            "rule_feature": rule.feature,
            "split": split.describe()["method"],
            **outcome_summary(evaluation, metrics),
        },
    )
    return TrainingRun(
        model=model,
        config=config,
        split=split,
        metrics=metrics,
        evaluation=evaluation,
        baselines=base_eval,
        calibration_before=before,
        calibration_after=evaluation.metrics,
        uncalibrated_test=uncal,
        with_exclusions_included=None,
        included_features=(),
        shap_sample=contrib,
        shap_values_sample=X_sample[list(model.features)],
        timings=timer.timings,
        n_rows={"train": len(tr), "validation": len(va), "test": len(te)},
        notes=notes,
        baseline_labels={"rule": f"best single feature ({rule.feature})"},
    )


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) feature table."""
    from pathlib import Path

    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"{file}: no such table")
    suffix = file.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(file)
    if suffix == ".csv":
        return pd.read_csv(file)
    raise TableError(f"{file}: a feature table must be .parquet, .pq or .csv; got {suffix!r}")


__all__ = [
    "MIN_CLASS_ROWS",
    "RandomSplit",
    "SingleFeatureRule",
    "TableColumns",
    "TableError",
    "fit_single_feature_rule",
    "read_table",
    "stratified_split",
    "table_columns",
    "table_labels",
    "train_table",
]
