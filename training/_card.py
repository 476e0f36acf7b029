"""The model card (Mitchell et al., 2019) of a training run, rendered as Markdown.

:func:`render_model_card` is pure: a :class:`~training.TrainingRun` in, text out.
:func:`write_model_card` writes it atomically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from features import feature_specs
from risk import model_vocabulary
from training._data import TemporalSplit
from training._gates import check_gates
from training._monotone import monotone_card_section
from training._run import Evaluation, TrainingRun

#: DESIGN.md section 6, verbatim: what a score must never be used for.
OUT_OF_SCOPE_USES: tuple[str, ...] = (
    "eligibility",
    "investigation triggers",
    "removal or any sanction",
    "benefit decisions",
)

#: Section headings, in order.
SECTIONS: tuple[str, ...] = (
    "Model details",
    "Intended use",
    "Out-of-scope uses",
    "Factors",
    "Metrics",
    "Evaluation data",
    "Quantitative analyses",
    "What the default exclusions cost",
    "Monotone constraints",
    "Ethical considerations",
    "Caveats and recommendations",
)

#: What the simulation showed (``python -m bench.bench_retraining``; bench/RESULTS.md,
#: "Retraining with and without the treatment record"): filled into the card's caveats.
RETRAINING_FIGURES: dict[str, str] = {
    "seeds": "3",
    "naive_helped": "8.9%",
    "aware_helped": "14.0%",
    "true_helped": "12.8%",
    "naive_auc": "0.833",
    "aware_auc": "0.835",
    "naive_slope": "1.02",
    "aware_slope": "0.83",
}
RETRAINING_FINDING = (
    "On the simulation (a true outreach effect of 0.3, 4 quarters of outreach, retrained once "
    "their label windows matured; mean of {seeds} seeds, bench/RESULTS.md), a model retrained "
    "naively on outcomes that outreach changed rated the families it had helped at "
    "{naive_helped} mean risk against their true {true_helped} without outreach; the "
    "treatment-aware model rated them {aware_helped} (AUC against outcomes without outreach: "
    "naive {naive_auc}, aware {aware_auc}; calibration slope {naive_slope} and "
    "{aware_slope}). Retrain with the treatment record, and check that the profiles outreach "
    "helped are not rated safe."
)

#: Headline metrics: key (without ``test_``), label, decimals.
_METRICS: tuple[tuple[str, str, int], ...] = (
    ("roc_auc", "ROC AUC", 3),
    ("pr_auc", "PR AUC", 3),
    ("brier", "Brier score", 4),
    ("log_loss", "Log loss", 4),
    ("ece", "ECE (10 equal-mass bins)", 4),
    ("calibration_slope", "Calibration slope", 3),
    ("calibration_intercept", "Calibration intercept", 3),
    ("precision_at_capacity", "Precision at capacity", 3),
    ("recall_at_capacity", "Recall at capacity", 3),
)

#: Audit columns shown per group: column, label, decimals.
_AUDIT_VALUES: tuple[tuple[str, str, int], ...] = (
    ("flag_rate", "flag rate", 3),
    ("prevalence", "prevalence", 3),
    ("ppv", "PPV", 3),
    ("fpr", "FPR", 3),
    ("fnr", "FNR", 3),
    ("ece", "ECE", 4),
)
_AUDIT_RATIOS: tuple[str, ...] = ("flag_rate", "ppv", "fpr", "fnr")

_BASELINE_NAMES = {"logreg": "logistic regression", "rule": "current-practice rule"}
_EXCLUSION_ATTRIBUTES = ("low_income", "disabled_child")


def fmt(x: Any, digits: int = 3) -> str:
    """Format a number for a reader: fixed decimals, thousands separators, ``—`` if undefined.

    Examples
    --------
    >>> fmt(0.87181), fmt(float("nan")), fmt(18332), fmt(0.0052, 4), fmt(None)
    ('0.872', '—', '18,332', '0.0052', '—')
    """
    if x is None or isinstance(x, str):
        return "—" if x is None else x
    value = float(x)
    if not math.isfinite(value):
        return "—"
    if isinstance(x, int) or (value.is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _signed(x: float, digits: int) -> str:
    return fmt(x, digits) if not math.isfinite(x) or x < 0 else "+" + fmt(x, digits)


def _ci(m: Mapping[str, float], key: str, digits: int) -> str:
    low, high = m.get(f"{key}_ci_low"), m.get(f"{key}_ci_high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return fmt(m.get(key), digits)
    return f"{fmt(m.get(key), digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _features_block(features: Sequence[str], specs: Mapping[str, Any] | None = None) -> str:
    from features import FEATURES

    specs = FEATURES if specs is None else specs  # a model's own: with a region's record types
    by_domain: dict[str, list[str]] = {}
    for f in features:
        domain = specs[f].domain if f in specs else "other"
        by_domain.setdefault(domain, []).append(f)
    counts = ", ".join(f"{d} {len(v)}" for d, v in sorted(by_domain.items()))
    body = "\n".join(
        f"- **{d}**: {', '.join(f'`{f}`' for f in v)}" for d, v in sorted(by_domain.items())
    )
    return (
        f"{len(features)} features (by need domain: {counts}).\n\n"
        f"<details><summary>All model inputs</summary>\n\n{body}\n\n</details>"
    )


def _excluded_block(excluded: Sequence[str]) -> str:
    from features import FEATURES

    if not excluded:
        return "none"
    lines = []
    for f in excluded:
        spec = FEATURES.get(f)
        desc = f" — {spec.description_en}" if spec is not None else ""
        lines.append(f"- `{f}`{desc}")
    return "\n".join(lines)


def _from_table(run: TrainingRun) -> bool:
    return run.model.metadata.get("feature_source") == "table"


def _model_details(run: TrainingRun, version: str | None, run_id: str | None, date: str) -> str:
    cfg, model = run.config, run.model
    params = {
        **cfg.lightgbm.params,
        "num_boost_round": cfg.lightgbm.num_boost_round,
        "early_stopping_rounds": cfg.lightgbm.early_stopping_rounds,
    }
    best = run.metrics.get("best_iteration")
    overrides = ", ".join(f"{d}: {c}" for d, c in cfg.capacity.per_district.items())
    rows = [
        ("Name", f"`{cfg.model.name}`"),
        ("Version", version or "not registered"),
        ("MLflow run", f"`{run_id}`" if run_id else "—"),
        ("Date", date),
        (
            "Type",
            "gradient-boosted trees (LightGBM), binary, with an affine (Platt) calibration "
            "of the margin that keeps TreeSHAP contributions exact",
        ),
        (
            "Explanations",
            "exact Shapley contributions against a typical family (each input's median over "
            "the training population, kept with the model)"
            if model.reference is not None
            else "exact TreeSHAP contributions against the average family",
        ),
        (
            "Predicts",
            f"`{model.metadata['label']}` = 1 (the label column of a user-supplied feature table)"
            if _from_table(run)
            else f"any registered outcome within {cfg.model.horizon_days} days of the as-of "
            "date (SOP registration, commission-on-minors case, child removal, "
            "restriction of parental rights)",
        ),
        ("Horizon", f"{cfg.model.horizon_days} days"),
        ("Lookback", f'{cfg.model.lookback_days} days (no unbounded "ever" features)'),
        (
            "Calibration",
            f"{cfg.calibration_method}: log-odds = {model.calibration.intercept:.4f} + "
            f"{model.calibration.slope:.4f} × margin, fitted on the validation snapshot",
        ),
        ("Boosting rounds used", fmt(best, 0) if best is not None else "—"),
        (
            "Capacity",
            f"{cfg.capacity.default} flags per district per quarter by default "
            f"({overrides or 'no overrides'}), "
            f"minimum score {cfg.capacity.min_score:g}",
        ),
        ("Model definition", f"`{cfg.path}`"),
    ]
    param_rows = [(f"`{k}`", f"`{v}`") for k, v in params.items()]
    notes = "\n".join(f"- {n}" for n in run.notes)
    return "\n\n".join(
        [
            _table(("", ""), rows),
            *([f"**Notes on this run**\n\n{notes}"] if notes else []),
            "**LightGBM parameters**\n\n" + _table(("parameter", "value"), param_rows),
            "**Features used**: "
            + _features_block(model.features, feature_specs(model_vocabulary(model))),
            '**Features excluded** by the model definition (they turn need into "risk"; see '
            "[What the default exclusions cost](#what-the-default-exclusions-cost)):\n\n"
            + _excluded_block(cfg.features.exclude),
        ]
    )


_INTENDED = """\
The score orders a **human review queue** for **voluntary, preventive outreach**: it helps
specialists of the family multifunctional centre find families who may need support before
distress becomes a crisis, and offer them services available in their district.

- Every flag goes to a specialist, who reviews the family's records and the explanation of the
  score and records a decision with a written rationale (support offered, no outreach needed,
  referred, insufficient information, family declined) and whether they agree with the model.
- A flag is raised for the highest scores in each district up to that district's outreach capacity
  for the period, and above a minimum score. No flag, score or tier acts on a family by itself.
- Users: specialists and supervisors of regional social services (review app); the data team
  (training, audit, promotion); developers integrating the `risk` library."""


def _out_of_scope() -> str:
    items = "\n".join(f"- {use}" for use in OUT_OF_SCOPE_USES)
    return (
        "The score must **never** be used for:\n\n" + items + "\n\n"
        "It estimates the chance of a *registered* outcome from agency records; it is not evidence "
        "about any family, and no decision about rights, benefits or services may rest on it."
    )


def _factors(run: TrainingRun) -> str:
    promo = run.config.promotion
    attrs = sorted(set(run.evaluation.audit["attribute"].astype(str)))
    gated = ", ".join(f"`{a}`" for a in promo.fairness_attributes) or "none"
    return (
        f"The audit groups test families by: {', '.join(f'`{a}`' for a in attrs)}. "
        + (
            "These are group columns of the user's table, used by the audit only and never as "
            "model inputs.\n\n"
            if _from_table(run)
            else "District and settlement come from the records; single parent, large family, "
            "disabled child "
            "and low income from the family's composition and status.\n\n"
        )
        + f"Promotion gates check {', '.join(f'{m}_ratio' for m in promo.fairness_metrics)} of "
        f"{gated} for groups of at least {promo.min_group_size:,} test families, against the band "
        f"[{promo.fairness_band[0]:.2f}, {promo.fairness_band[1]:.2f}] around the reference group."
    )


def _metrics(run: TrainingRun) -> str:
    m = run.metrics
    bases = [b for b in run.baselines]
    has_oracle = "oracle_test_roc_auc" in m
    names = {**_BASELINE_NAMES, **run.baseline_labels}
    header = ["metric", "model [95% CI]", *(names.get(b, b) for b in bases)]
    if has_oracle:
        header.append("oracle (true probability)")
    rows = []
    for key, label, d in _METRICS:
        row = [label, _ci(m, f"test_{key}", d), *(fmt(m.get(f"{b}_test_{key}"), d) for b in bases)]
        if has_oracle:
            row.append(_ci(m, f"oracle_test_{key}", d) if f"oracle_test_{key}" in m else "")
        rows.append(row)
    n_boot = m.get("test_n_boot")
    before, after = run.calibration_before, run.calibration_after
    cal_rows = [
        (label, fmt(before.get(k), d), fmt(after.get(k), d))
        for k, label, d in _METRICS
        if k in ("brier", "log_loss", "ece", "calibration_slope", "calibration_intercept")
    ]
    return "\n\n".join(
        [
            f"On the test snapshot ({fmt(m.get('test_n'), 0)} families, prevalence "
            f"{fmt(m.get('test_prevalence'), 3)}). Intervals: percentile bootstrap, "
            f"{fmt(n_boot, 0)} resamples. Precision and recall at capacity count the flags "
            "the capacity "
            "rule raises in each district.",
            _table(header, rows),
            "**Calibration before and after** (test snapshot):\n\n"
            + _table(("metric", "booster margin (before)", "calibrated (after)"), cal_rows),
        ]
    )


def _evaluation_data(run: TrainingRun, manifest: Mapping[str, Any] | None) -> str:
    split = run.split.describe()
    rows = [(k.replace("_", " "), v) for k, v in split.items()]
    rows += [(f"{k} rows", fmt(v)) for k, v in run.n_rows.items()]
    parts = [
        "A temporal split: the model trains on early as-of dates, is calibrated on a date one "
        "horizon before the test date, and is tested on the last date whose label window closes "
        "by the extraction date, so no training label window overlaps the test period."
        if isinstance(run.split, TemporalSplit)
        else "A random split of the table's rows, stratified by the label: the model trains on "
        "one part, stops early and is calibrated on the validation part, and is tested on the "
        "rest.",
        _table(("", ""), rows),
    ]
    if manifest:
        info = [
            (k, str(manifest[k]))
            for k in ("generator", "seed", "profile", "extraction_date")
            if k in manifest
        ]
        for k, v in (manifest.get("parameters") or {}).items():
            if k in ("surveillance_bias", "label_bias", "n_families"):
                info.append((k.replace("_", " "), fmt(v, 2)))
        info += [(f"{k} (count)", fmt(v)) for k, v in (manifest.get("counts") or {}).items()]
        info += [
            (k.replace("_", " "), fmt(v, 3)) for k, v in (manifest.get("figures") or {}).items()
        ]
        parts.append("**Data manifest**\n\n" + _table(("", ""), info))
    return "\n\n".join(parts)


def _ratio_cell(row: pd.Series, metric: str, band: tuple[float, float]) -> str:
    ratio = row.get(f"{metric}_ratio")
    text = fmt(ratio, 2)
    if ratio is not None and math.isfinite(float(ratio)) and not band[0] <= float(ratio) <= band[1]:
        return f"**{text}** ⚠"
    return text


def _audit_tables(audit: pd.DataFrame, run: TrainingRun) -> str:
    promo = run.config.promotion
    band = promo.fairness_band
    header = [
        "group",
        "n",
        "flagged",
        *(lbl for _, lbl, _ in _AUDIT_VALUES),
        *(f"{m.replace('_', ' ')} ratio" for m in _AUDIT_RATIOS),
    ]
    out = []
    for attribute, rows in audit.groupby("attribute", sort=False):
        body = []
        for _, row in rows.iterrows():
            name = str(row["group"]) + (" (reference)" if bool(row.get("is_reference")) else "")
            if int(row["n"]) < promo.min_group_size:
                name += " ·"
            body.append(
                [
                    name,
                    fmt(int(row["n"])),
                    fmt(int(row["n_flagged"])),
                    *(fmt(row.get(c), d) for c, _, d in _AUDIT_VALUES),
                    *(_ratio_cell(row, m, band) for m in _AUDIT_RATIOS),
                ]
            )
        out.append(f"**{attribute}**\n\n" + _table(header, body))
    legend = (
        f"Ratios are to the reference group; **bold ⚠** marks a ratio outside "
        f"[{band[0]:.2f}, {band[1]:.2f}]. · marks groups under {promo.min_group_size:,} test "
        "families: their ratios are noisy and the promotion gates do not count them."
    )
    return legend + "\n\n" + "\n\n".join(out)


def _quantitative(run: TrainingRun) -> str:
    parts = ["### Against the registered label", _audit_tables(run.evaluation.audit, run)]
    distress = run.evaluation.audit_distress
    if distress is not None:
        parts += [
            "### Against the true distress (synthetic truth)",
            "The registered label is a biased proxy: distress in some groups is registered more "
            "often than in others (label bias). On synthetic data the truth records distress "
            "whether or not it was registered, so this table shows what label bias hides: a "
            "group whose PPV or FNR differ between the two tables is judged differently by the "
            "label than by its real distress.",
            _audit_tables(distress, run),
        ]
    return "\n\n".join(parts)


def _exclusion_rows(audit: pd.DataFrame) -> pd.DataFrame:
    rows = audit[audit["attribute"].astype(str).isin(_EXCLUSION_ATTRIBUTES)]
    return rows.set_index([rows["attribute"].astype(str), rows["group"].astype(str)])


def _exclusions(run: TrainingRun) -> str:
    excluded = ", ".join(f"`{f}`" for f in run.config.features.exclude) or "none"
    other: Evaluation | None = run.with_exclusions_included
    if other is None:
        return (
            f"Excluded by default: {excluded}. The comparison model with these features included "
            "was not trained for this run (no exclusions, or `--no-compare-exclusions`)."
        )
    ours, theirs = run.calibration_after, other.metrics
    rows = [
        (
            label,
            fmt(ours.get(k), d),
            fmt(theirs.get(k), d),
            _signed(float(theirs.get(k, math.nan)) - float(ours.get(k, math.nan)), d),
        )
        for k, label, d in _METRICS
        if k in ("roc_auc", "precision_at_capacity", "ece")
    ]
    a, b = _exclusion_rows(run.evaluation.audit), _exclusion_rows(other.audit)
    group_rows = []
    for key in a.index:
        row_a = a.loc[key]
        row_b = b.loc[key] if key in b.index else pd.Series(dtype=float)
        group_rows.append(
            [
                f"{key[0]}={key[1]}",
                fmt(int(row_a["n"])),
                *(
                    f"{fmt(row_a.get(c), 3)} / {fmt(row_b.get(c), 3)}"
                    for c in ("flag_rate", "ppv", "fpr", "fnr")
                ),
                f"{fmt(row_a.get('fpr_ratio'), 2)} / {fmt(row_b.get('fpr_ratio'), 2)}",
            ]
        )
    return "\n\n".join(
        [
            f"The model as trained leaves out {excluded}: disability and poverty are needs, and as "
            'model inputs they turn need into "risk" and mark these families more often '
            "for the same "
            "records. The same model was trained again with them included, on the same split:",
            _table(
                ("test metric", "as trained (excluded)", "with exclusions included", "difference"),
                rows,
            ),
            "Low-income and disability groups, as trained / with exclusions included:",
            _table(("group", "n", "flag rate", "PPV", "FPR", "FNR", "FPR ratio"), group_rows),
            "If the difference in AUC or precision at capacity is small next to its bootstrap "
            "interval, "
            "the exclusions cost little accuracy for the fairness they buy.",
        ]
    )


_ETHICS = """\
- **Scores are advisory.** A score, flag or tier never decides anything: it orders a review queue.
  Every flag is reviewed by a specialist, whose decision and rationale are recorded, and whether
  they agree with the model; overrides are recorded, never discarded, and feed the next audit.
- **Labels are biased proxies.** The label is a *registered* outcome (SOP registration,
  commission-on-minors case, child removal, restriction of parental rights), not distress itself.
  Groups whose distress is registered more often look riskier than they are.
- **Surveillance bias.** Agencies record more about some families (low-income families in
  particular) at the same real distress; more records can mean more contact with agencies, not
  more need.
- **Records can be wrong.** Families and specialists can dispute a record; disputed records are
  excluded when the family is scored again.
- **Privacy.** Identifiers are pseudonymous; the card, the MLflow run and the plots hold only
  aggregates, never a family's row.
- **Static marks.** Features look back a bounded window, so no family is marked forever."""


def _treatment_note(run: TrainingRun) -> str:
    # Outreach changes the outcomes it is meant to prevent; the card says what training did.
    m, mode = run.metrics, getattr(run.config, "treatment", "censor")
    windows, families = int(m.get("treated_windows", 0)), int(m.get("treated_families", 0))
    what = (
        f"left out {windows:,} training and validation label windows of {families:,} families "
        "whose outreach began within a horizon before or during the window"
        if mode == "censor"
        else f"learned from {windows:,} label windows of {families:,} families that outreach "
        'may have changed, as they are (`[training] treatment = "ignore"`)'
    )
    return (
        f"**Outreach and labels**: training read the treatment record and {what}. "
        + RETRAINING_FINDING.format(**RETRAINING_FIGURES)
    )


def _caveats(run: TrainingRun) -> str:
    m = run.metrics
    items = []
    if "oracle_test_roc_auc" in m:
        items.append(
            f"**Oracle gap**: test AUC {fmt(m['test_roc_auc'])} vs oracle "
            f"{fmt(m['oracle_test_roc_auc'])} (Brier {fmt(m.get('test_brier'), 4)} vs oracle "
            f"{fmt(m.get('oracle_test_brier'), 4)}): the part of the true signal the records "
            "and the "
            "model do not capture. The oracle exists only on synthetic data."
        )
    items += [
        "Precision at capacity is what specialists feel: of the families they are asked to review, "
        f"about {fmt(100 * m.get('test_precision_at_capacity', math.nan), 0)}% have a registered "
        "outcome within the horizon. Set capacity to what staff can review.",
        "Small groups (marked ·) have wide intervals; read their ratios with their CIs in "
        "`fairness/audit.csv`.",
        "Retrain and re-audit when practice, records or the population change; scores drift as "
        "agencies change what they record.",
        "Explain every fairness flag in this card before listing it in "
        "`[promotion] explained_fairness_flags`.",
    ]
    items.append(_treatment_note(run))
    gates = check_gates(m, run.evaluation.audit, run.config.promotion)
    gate_lines = "\n".join(f"- {'✓' if g.passed else '✗'} {g.name}: {g.detail}" for g in gates)
    return (
        "\n".join(f"- {i}" for i in items)
        + "\n\n**Promotion gates** (as `risk promote` will check them):\n\n"
        + gate_lines
    )


def render_model_card(
    run: TrainingRun,
    *,
    version: str | None = None,
    run_id: str | None = None,
    data_manifest: Mapping[str, Any] | None = None,
    date: str | None = None,
) -> str:
    """Render the model card of ``run`` as Markdown.

    Parameters
    ----------
    run : TrainingRun
        What :func:`training.train` or :func:`training.train_table` returned.
    version, run_id : str, optional
        The registered version and the MLflow run, when logged.
    data_manifest : mapping, optional
        The data's ``manifest.json`` (generator, seed, counts, figures).
    date : str, optional
        The card's date (default: today, UTC).

    Returns
    -------
    str
        Markdown with the sections of :data:`SECTIONS`, in that order.
    """
    when = date or datetime.now(UTC).date().isoformat()
    bodies = [
        _model_details(run, version, run_id, when),
        _INTENDED,
        _out_of_scope(),
        _factors(run),
        _metrics(run),
        _evaluation_data(run, data_manifest),
        _quantitative(run),
        _exclusions(run),
        (
            "Not applied: the constraints of the model definition name features of the registry, "
            "and a feature table's columns are the user's own."
            if _from_table(run)
            else monotone_card_section(
                run.config.lightgbm, run.model.features, run.calibration_after, run.unconstrained
            )
        ),
        _ETHICS,
        _caveats(run),
    ]
    title = f"# Model card: {run.config.model.name}" + (f" v{version}" if version else "")
    intro = run.config.model.description or ""
    sections = [f"## {h}\n\n{b}" for h, b in zip(SECTIONS, bodies, strict=True)]
    return "\n\n".join([title, intro, *sections]).strip() + "\n"


def write_model_card(run: TrainingRun, path: str | Path, **kwargs: Any) -> Path:
    """Render and write the model card atomically (temporary file and ``os.replace``).

    Keyword arguments go to :func:`render_model_card`. Returns the path written.
    """
    from risk.io import write_atomically

    text = render_model_card(run, **kwargs)
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
