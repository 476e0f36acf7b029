"""The training pipeline, pure: records in, a calibrated model and its evaluation out.

MLflow, files and plots are at the edge (``training/_tracking.py``); nothing here writes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from features import Records, Vocabulary
from risk import Capacity, RiskModel, vocabulary_metadata
from risk.fairness import DEFAULT_ATTRIBUTES
from risk.metrics import evaluate
from risk.monitoring import reference_profile
from training._config import ModelConfig
from training._data import (
    Snapshots,
    labelled_snapshots,
    last_labelled_date,
    quarterly_dates,
    temporal_split,
    treated_windows,
)
from training._fit import fit_lightgbm, fit_logreg, model_features, rule_score
from training._monotone import constrained_params
from training._run import (
    Evaluation,
    Progress,
    StageTimer,
    TrainingRun,
    explain_sample,
    flat_metrics,
    outcome_summary,
)

GROUP_ATTRIBUTES = DEFAULT_ATTRIBUTES  # the attributes DESIGN.md section 7 audits by


def _rows(snap: Snapshots, dates: tuple[pd.Timestamp, ...]) -> np.ndarray:
    as_of = snap.X.index.get_level_values("as_of")
    return np.asarray(as_of.isin(pd.DatetimeIndex(dates)))


def group_frame(
    records: Records,
    X_test: pd.DataFrame,
    truth_families: pd.DataFrame | None,
) -> pd.DataFrame:
    """Audit attributes per test family: districts from records, the rest from truth or features."""
    fam_ids = X_test.index.get_level_values("family_id")
    families = records.families.set_index("family_id")
    out = pd.DataFrame(
        {
            "family_id": fam_ids,
            "district": families["district"].reindex(fam_ids).to_numpy(),
            "settlement": families["settlement"].reindex(fam_ids).to_numpy(),
        }
    )
    attrs = ("single_parent", "large_family", "disabled_child", "low_income")
    if truth_families is not None:
        t = truth_families.set_index("family_id")
        for a in attrs:
            out[a] = t[a].reindex(fam_ids).to_numpy().astype(bool)
    else:
        for a in attrs:
            out[a] = X_test[a].to_numpy() > 0
    return out


def _evaluate_model(
    model: RiskModel,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    groups: pd.DataFrame,
    truth: pd.DataFrame | None,
    capacity: Capacity,
    n_boot: int,
) -> Evaluation:
    from risk.fairness import audit

    p = model.predict_proba(X_test)
    districts = groups["district"].to_numpy()
    cap = capacity
    metrics = evaluate(
        y_test,
        p,
        groups=districts,
        capacity=cap,
        oracle=None if truth is None else truth["p_true"].to_numpy(),
        tie_break=groups["family_id"].to_numpy(),
        n_boot=n_boot,
    )
    test = groups.copy()
    test["score"] = p
    test["label"] = y_test
    if truth is not None:
        test["p_true"] = truth["p_true"].to_numpy()
        test["distress"] = truth["distress"].to_numpy()
    kwargs: dict[str, Any] = {
        "score": "score",
        "groups": list(GROUP_ATTRIBUTES),
        "top_k": cap,
        "top_k_by": "district",
        "tie_break": "family_id",
        "n_boot": n_boot,
    }
    table = audit(test, label="label", **kwargs)
    table_distress = audit(test, label="distress", **kwargs) if truth is not None else None
    return Evaluation(metrics=metrics, test=test, audit=table, audit_distress=table_distress)


def train(
    records: Records,
    config: ModelConfig,
    *,
    truth_snapshots: pd.DataFrame | None = None,
    truth_families: pd.DataFrame | None = None,
    compare_exclusions: bool = True,
    n_boot: int = 200,
    progress: Progress | None = None,
    vocabulary: Vocabulary | None = None,
    treatments: pd.DataFrame | None = None,
) -> TrainingRun:
    """Train, calibrate and evaluate the model of ``config`` on ``records``.

    Parameters
    ----------
    records : Records
        Validated records.
    config : ModelConfig
        The model definition.
    truth_snapshots, truth_families : DataFrame, optional
        The synthetic truth (``truth/``): adds oracle metrics and the audit against ``distress``.
    compare_exclusions : bool
        Also train the same model with the excluded features included, for the model card.
    n_boot : int
        Bootstrap resamples for intervals.
    progress : callable, optional
        Called with the name of each stage as it starts.
    vocabulary : Vocabulary, optional
        The records' event types (a region pack's); the model gets the features of its own
        types and keeps their description in its metadata (``risk.model_vocabulary``).
    treatments : DataFrame, optional
        The review store's treatment record (``family_id``, ``outreach_started_at``). With
        ``[training] treatment = "censor"`` (the default) the training and validation
        snapshots whose label window outreach may have changed are left out
        (:func:`training._data.treated_windows`); the test snapshot is kept whole. The metrics
        ``treated_families``, ``treated_windows`` and ``censored_windows`` count them.
    """
    say = progress or (lambda _stage: None)
    timer = StageTimer()
    lap = timer.lap

    m = config.model
    last = (
        last_labelled_date(
            records, config.snapshots.first_as_of, m.horizon_days, config.snapshots.frequency_months
        )
        if config.snapshots.last_as_of == "auto"
        else pd.Timestamp(config.snapshots.last_as_of)
    )
    dates = quarterly_dates(config.snapshots.first_as_of, last, config.snapshots.frequency_months)
    split = temporal_split(dates, m.horizon_days)
    say("building labelled snapshots")
    snap = labelled_snapshots(
        records,
        [*split.train, split.validation, split.test],
        horizon_days=m.horizon_days,
        lookback_days=m.lookback_days,
        truth_snapshots=truth_snapshots,
        vocabulary=vocabulary,
    )
    lap("snapshots")
    tr, va, te = (
        _rows(snap, split.train),
        _rows(snap, (split.validation,)),
        _rows(snap, (split.test,)),
    )
    touched = treated_windows(snap.X.index, treatments, m.horizon_days) & (tr | va)
    if config.treatment == "censor":
        # Outreach lowered these outcomes: as labels they would teach that a helped family's
        # profile is safe. Dropping them keeps the rest unbiased when who was treated depends
        # on the features (the score) and chance, not on anything the features miss.
        tr, va = tr & ~touched, va & ~touched
    X, y = snap.X, snap.y.to_numpy()
    X_test = X[te]
    capacity = Capacity(
        default=config.capacity.default,
        per_district=dict(config.capacity.per_district),
        min_score=config.capacity.min_score,
    )
    feats = model_features(config.features.exclude, vocabulary)
    common: dict[str, Any] = {
        "params": config.lightgbm.params,
        "num_boost_round": config.lightgbm.num_boost_round,
        "early_stopping_rounds": config.lightgbm.early_stopping_rounds,
        "horizon_days": m.horizon_days,
        "lookback_days": m.lookback_days,
        "capacity": capacity,
        "name": m.name,
    }
    lgb_section = config.lightgbm
    say("fitting LightGBM")
    fit = fit_lightgbm(
        X[tr],
        y[tr],
        X[va],
        y[va],
        features=feats,
        **{**common, "params": constrained_params(common["params"], feats, lgb_section)},
    )
    lap("fit")
    say("fitting baselines")
    logreg = fit_logreg(X[tr], y[tr], feats)
    lap("baselines")
    say("evaluating on the test snapshot")
    groups = group_frame(records, X_test, truth_families)
    truth_test = None if snap.truth is None else snap.truth[te]
    y_test = y[te]
    evaluation = _evaluate_model(fit.model, X_test, y_test, groups, truth_test, capacity, n_boot)
    districts = groups["district"].to_numpy()
    cap = capacity
    base_eval = {
        "logreg": evaluate(
            y_test,
            logreg.predict_proba(X_test[list(feats)].to_numpy(np.float64))[:, 1],
            groups=districts,
            capacity=cap,
            tie_break=groups["family_id"].to_numpy(),
            n_boot=n_boot,
        ),
        "rule": evaluate(
            y_test,
            rule_score(X_test),
            groups=districts,
            capacity=cap,
            tie_break=groups["family_id"].to_numpy(),
            n_boot=n_boot,
        ),
    }
    margin_test = fit.model.margin(X_test)
    uncal = 1 / (1 + np.exp(-margin_test))
    before = evaluate(y_test, uncal, n_boot=0)
    after = evaluation.metrics
    lap("evaluate")
    unconstrained = None
    if constrained_params(common["params"], feats, lgb_section) != dict(common["params"]):
        # The cost of the constraints, for the model card: the same model without them.
        say("fitting the comparison model without monotone constraints")
        fit_free = fit_lightgbm(X[tr], y[tr], X[va], y[va], features=feats, **common)
        unconstrained = evaluate(
            y_test,
            fit_free.model.predict_proba(X_test),
            groups=districts,
            capacity=cap,
            tie_break=groups["family_id"].to_numpy(),
            n_boot=n_boot,
        )
        lap("monotone_comparison")
    included = None
    included_feats: tuple[str, ...] = ()
    if compare_exclusions and config.features.exclude:
        say("fitting the comparison model with the exclusions included")
        included_feats = model_features((), vocabulary)
        fit_inc = fit_lightgbm(
            X[tr],
            y[tr],
            X[va],
            y[va],
            features=included_feats,
            **{
                **common,
                "params": constrained_params(common["params"], included_feats, lgb_section),
            },
        )
        included = _evaluate_model(
            fit_inc.model, X_test, y_test, groups, truth_test, capacity, n_boot
        )
        lap("exclusions_comparison")
    say("explaining a sample of the test snapshot")
    contrib, X_sample = explain_sample(fit.model, X_test)
    lap("shap_sample")
    metrics = flat_metrics(after, base_eval, before)
    metrics["best_iteration"] = float(fit.best_iteration)
    for key, value in (unconstrained or {}).items():
        metrics[f"unconstrained_test_{key}"] = float(value)
    metrics["treated_windows"] = float(touched.sum())
    metrics["treated_families"] = float(X.index.get_level_values("family_id")[touched].nunique())
    metrics["censored_windows"] = float(touched.sum()) if config.treatment == "censor" else 0.0
    model = replace(
        fit.model,
        metadata={
            "test_as_of": str(split.test.date()),
            **outcome_summary(evaluation, metrics),
            # The model's own record types, so that it scores and explains from itself alone.
            **({"vocabulary": vocabulary_metadata(vocabulary)} if vocabulary else {}),
        },
    )
    # What every scoring run's monitoring compares against: the test date's population.
    say("saving the monitoring reference")
    reference = reference_profile(
        records,
        split.test,
        X_test.droplevel("as_of"),
        model.predict_proba(X_test),
        lookback_days=config.model.lookback_days,
    )
    lap("reference")
    return TrainingRun(
        reference=reference,
        model=model,
        config=config,
        split=split,
        metrics=metrics,
        evaluation=evaluation,
        baselines=base_eval,
        calibration_before=before,
        calibration_after=after,
        uncalibrated_test=uncal,
        with_exclusions_included=included,
        unconstrained=unconstrained,
        included_features=included_feats,
        shap_sample=contrib,
        shap_values_sample=X_sample[list(model.features)],
        timings=timer.timings,
        n_rows={"train": int(tr.sum()), "validation": int(va.sum()), "test": int(te.sum())},
    )
