"""What one scoring run leaves in the tracking store: params, metrics, tags, tables and figures.

Pure: built from the run's scores and checks, written by ``_tracking.py``. Only counts and
distributions go in: no table here has a row per family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from risk.monitoring._drift import DriftReport
from risk.monitoring._integrity import IntegrityReport, missing_sources_by_district
from risk.monitoring._performance import TOTAL
from risk.monitoring._plots import psi_bars_png, score_shift_png, volumes_heatmap_png
from risk.monitoring._reference import Reference

#: The MLflow experiment of scoring runs.
EXPERIMENT = "family-distress-screening"

#: Tag that marks a run of this experiment as a scoring run.
KIND_TAG = "risk.kind"

#: Score quantiles logged as metrics.
QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)


@dataclass(frozen=True)
class ScoringRunRecord:
    """Everything logged for one scoring run.

    Attributes
    ----------
    name : str
        Run name, ``score-<as-of>-<short run id>``.
    params, metrics, tags : dict
    tables : dict of str to pandas.DataFrame
        Artifact path (CSV) to table.
    figures : dict of str to bytes
        Artifact path (PNG) to image.
    """

    name: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(repr=False)
    figures: dict[str, bytes] = field(repr=False)


def run_name(as_of: object, run_id: str) -> str:
    """Readable MLflow run name of a scoring run.

    Examples
    --------
    >>> run_name("2024-07-01", "family-distress-v3-2024-07-01-0123456789ab")
    'score-2024-07-01-01234567'
    """
    short = run_id.rsplit("-", 1)[-1][:8] or run_id[:8]
    return f"score-{pd.Timestamp(as_of).date()}-{short}"  # type: ignore[arg-type]


def _metric_key(text: str) -> str:
    """MLflow metric names allow letters, digits and ``_-. /``; anything else becomes ``_``."""
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in text)


def scoring_run_record(
    *,
    scores: pd.DataFrame,
    integrity: IntegrityReport,
    drift: DriftReport | None,
    performance: pd.DataFrame,
    reference: Reference | None,
    model_name: str,
    model_version: str,
    model_uri: str,
    as_of: object,
    region: str,
    run_id: str,
    psi_warn: float = 0.1,
    psi_alert: float = 0.25,
) -> ScoringRunRecord:
    """Build the record of one scoring run (see :func:`log_scoring_run` for what it holds)."""
    as_of_text = str(pd.Timestamp(as_of).date())  # type: ignore[arg-type]
    p = scores["score"].to_numpy(dtype=np.float64)
    flagged = scores["flagged"].to_numpy(dtype=bool)
    per_district = (
        scores.assign(flagged=flagged)
        .groupby("district", sort=True)
        .agg(families=("score", "size"), flagged=("flagged", "sum"), mean_score=("score", "mean"))
        .reset_index()
    )
    total = performance.loc[performance.iloc[:, 0] == TOTAL].iloc[0]
    metrics: dict[str, float] = {
        "population": float(len(scores)),
        "flags": float(flagged.sum()),
        "score_mean": float(p.mean()) if len(p) else 0.0,
        "degraded": float(integrity.degraded),
        "feed_problems": float(len(integrity.problems)),
        "expected_precision": float(total["expected_precision"]),
        "expected_precision_low": float(total["precision_low"]),
        "expected_precision_high": float(total["precision_high"]),
        "expected_recall": float(total["expected_recall"]),
    }
    if len(p):
        for q, v in zip(QUANTILES, np.quantile(p, QUANTILES), strict=True):
            metrics[f"score_q{round(q * 100):02d}"] = float(v)
    for district, n in zip(per_district["district"], per_district["flagged"], strict=True):
        metrics[_metric_key(f"flags.{district}")] = float(n)
    if drift is not None:
        metrics["score_psi"] = drift.score_psi
        metrics["max_feature_psi"] = drift.max_feature_psi
    metrics = {k: v for k, v in metrics.items() if np.isfinite(v)}
    missing = missing_sources_by_district(integrity)
    tags = {
        KIND_TAG: "scoring-run",
        "degraded": str(integrity.degraded).lower(),
        "missing_feeds": "; ".join(f"{d}: {', '.join(s)}" for d, s in missing.items()) or "none",
        "as_of": as_of_text,
        "model_version": model_version,
        "drift": "not computed (no training reference)" if drift is None else "computed",
    }
    if drift is not None and len(drift.table):
        tags["max_psi_feature"] = drift.top(1)[0]
        tags["top_drifting_features"] = ", ".join(drift.top(5))
    tables = {
        "integrity/integrity.csv": integrity.table,
        "performance/expected_performance.csv": performance,
        "performance/flags_by_district.csv": per_district,
    }
    figures = {
        "plots/score_distribution.png": score_shift_png(
            None if reference is None else reference.score,
            p,
            None if drift is None else drift.score_psi,
        ),
    }
    if not integrity.table.empty:  # an empty population has no volumes to draw
        figures["plots/volumes_heatmap.png"] = volumes_heatmap_png(integrity.table)
    if drift is not None:
        tables["drift/drift.csv"] = drift.table
        figures["plots/feature_psi.png"] = psi_bars_png(drift.table, psi_warn, psi_alert)
    return ScoringRunRecord(
        name=run_name(as_of, run_id),
        params={
            "model_name": model_name,
            "model_version": model_version,
            "model_uri": model_uri,
            "as_of": as_of_text,
            "region": region,
            "run_id": run_id,
            "reference_as_of": "none" if reference is None else reference.as_of,
        },
        metrics=metrics,
        tags=tags,
        tables=tables,
        figures=figures,
    )
