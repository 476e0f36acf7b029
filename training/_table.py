"""Training on any feature table: users who bring their own features and a binary label.

:func:`train_table` is pure (a DataFrame in, a :class:`~training.TrainingRun` out) and
produces the same run as the records pipeline, so ``log_training_run``, the model card and the
promotion gates work on it unchanged. What differs, and is written into ``TrainingRun.notes``
(the card lists them) and the model's metadata (``"feature_source": "table"``):

- **Inputs**: every numeric or bool column except the label, the group columns (audit only), the
  id column (tie-breaking only) and the columns the model definition excludes
  (``[features] exclude``). A column of any other dtype (strings, categories, dates) is an error
  naming it: strings never silently become features. Pass such columns as ``groups``,
  ``id_column`` or ``drop``.
- **Split**: random, stratified by the label (:class:`~training.RandomSplit`): train,
  validation (early stopping and calibration) and test.
- **Baseline** ``rule``: there is no current-practice rule for a user table, so ``rule_test_*``
  is the best single feature chosen on the training rows (largest ``|AUC - 0.5|``, in the
  direction it points), scored by its training empirical CDF. The promotion gate ``beats rule``
  then asks the model to beat the strongest column alone.
- **Capacity** for precision and recall at capacity and the audit's flags: when a group column
  is named ``district``, the model definition's capacity per district (as for records);
  otherwise a global top-k of ``capacity.default * max(1, n_test / 5000)`` test rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from risk import Capacity, RiskModel
from risk.metrics import evaluate
from training._config import ModelConfig
from training._fit import fit_lightgbm, fit_logreg, fit_single_feature_rule
from training._run import (
    Evaluation,
    Progress,
    RandomSplit,
    StageTimer,
    TrainingRun,
    explain_sample,
    flat_metrics,
    outcome_summary,
)
from training._table_inputs import (
    TableError,
    check_split_classes,
    quote_names,
    stratified_split,
    table_columns,
    table_labels,
)

#: Test rows per ``capacity.default`` flags when there is no ``district`` group column.
ROWS_PER_CAPACITY = 5000

#: Audit attribute used when the table has no group column: one group holding every row.
ALL = "all"


def _capacity_for(
    test: pd.DataFrame, capacity: Capacity
) -> tuple[np.ndarray | None, int | Capacity, str]:
    """Capacity groups, capacity and a plain description (see the module docstring)."""
    if "district" in test.columns:
        districts = test["district"].to_numpy()
        cap = capacity
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
            f"groups {quote_names(cols.groups) or 'none'}, id {id_column!r}, excluded by the model "
            f"definition {quote_names(cols.excluded) or 'none'})"
        )
    y = table_labels(frame, label)
    tr, va, te = stratified_split(
        y, test_size=test_size, validation_size=validation_size, seed=seed
    )
    check_split_classes(y, {"train": tr, "validation": va, "test": te}, label)
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

    metrics = flat_metrics(evaluation.metrics, base_eval, before)
    metrics["best_iteration"] = float(fit.best_iteration)
    notes = (
        "Features come from a user-supplied table (feature_source = table), not from the "
        f"feature registry; the label is the column `{label}`. The horizon and lookback shown "
        "are the model definition's and do not describe the table.",
        f"Group columns (audit only, never model inputs): {quote_names(cols.groups) or 'none'}; "
        f"id column (tie-breaking only): {id_column!r}"
        + (f"; dropped on request: {quote_names(cols.dropped)}" if cols.dropped else "")
        + (
            f"; left out because the model definition excludes them: {quote_names(cols.excluded)}"
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
