"""MLflow at the edge: one run per training, its metrics, artifacts and the registered model."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training._card import render_model_card
from training._gates import check_gates
from training._run import TrainingRun
from training._versions import TAG_GATES, card_summary, gate_summary, run_name

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
CHALLENGER = "challenger"


def tracking_uri(uri: str | None = None) -> str:
    """``uri``, else ``MLFLOW_TRACKING_URI``, else a local SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def git_commit() -> str:
    """Return the current git commit, or ``unknown`` outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _params(run: TrainingRun, manifest: dict[str, Any] | None) -> dict[str, str]:
    cfg = run.config
    params: dict[str, str] = {
        "model_name": cfg.model.name,
        "horizon_days": str(cfg.model.horizon_days),
        "lookback_days": str(cfg.model.lookback_days),
        "excluded_features": ",".join(cfg.features.exclude) or "none",
        "n_features": str(len(run.model.features)),
        "calibration": cfg.calibration_method,
        "calibration_intercept": f"{run.model.calibration.intercept:.6f}",
        "calibration_slope": f"{run.model.calibration.slope:.6f}",
        "capacity_default": str(cfg.capacity.default),
        "min_score": str(cfg.capacity.min_score),
        "rule": cfg.rule,
        "config_path": cfg.path,
        "git_commit": git_commit(),
        **{f"split_{k}": v for k, v in run.split.describe().items()},
        **{f"rows_{k}": str(v) for k, v in run.n_rows.items()},
        **{f"lgb_{k}": str(v) for k, v in cfg.lightgbm.params.items()},
        "lgb_num_boost_round": str(cfg.lightgbm.num_boost_round),
    }
    if manifest:
        params["data_seed"] = str(manifest.get("seed"))
        params["data_profile"] = str(manifest.get("profile"))
        params["data_extraction_date"] = str(manifest.get("extraction_date"))
        for k, v in (manifest.get("counts") or {}).items():
            params[f"data_{k}"] = str(v)
        for k, v in (manifest.get("parameters") or {}).items():
            if k in ("surveillance_bias", "label_bias"):
                params[f"data_{k}"] = str(v)
    return params


def _shap_summary(run: TrainingRun) -> Any:
    from matplotlib.figure import Figure

    from features import feature_specs
    from risk import model_vocabulary

    FEATURES = feature_specs(model_vocabulary(run.model))  # noqa: N806 - with the region's types
    mean_abs = run.shap_sample.abs().mean().sort_values(ascending=True).tail(20)
    fig = Figure(figsize=(8, 7), layout="constrained")
    ax = fig.add_subplot()
    labels = [FEATURES[f].description_en if f in FEATURES else f for f in mean_abs.index]
    ax.barh(range(len(mean_abs)), mean_abs.to_numpy(), color="#4c72b0")
    ax.set_yticks(range(len(mean_abs)), [lbl[:60] for lbl in labels], fontsize=8)
    ax.set_xlabel("mean |contribution| to the calibrated log-odds (exact TreeSHAP)")
    ax.set_title(
        f"What drives the score: top {len(mean_abs)} features "
        f"on {len(run.shap_sample):,} test families"
    )
    return fig


def readable_run_name(run: TrainingRun) -> str:
    """``<model>-<as-of>-<short hash of the booster>`` for the MLflow run, not a random name.

    The as-of date is the test snapshot's (a feature table has none: the day of training).
    """
    as_of = run.model.metadata.get("test_as_of") or datetime.now(UTC).date().isoformat()
    return run_name(run.config.model.name, str(as_of), run.model.booster.model_to_string())


def log_training_run(
    run: TrainingRun,
    *,
    uri: str | None = None,
    experiment: str = "family-distress",
    manifest: dict[str, Any] | None = None,
    register: bool = True,
) -> tuple[str, str | None]:
    """Log ``run`` to MLflow; register the model with alias ``challenger``.

    Returns ``(run_id, version)``. Only aggregates, plots and a synthetic input example are
    logged: never a row of family data.
    """
    import mlflow

    from risk.monitoring import REFERENCE_FILE, save_reference
    from risk.plots import audit_plot, pr_curve, reliability_diagram
    from risk.pyfunc import log_risk_model

    resolved = tracking_uri(uri)
    mlflow.set_tracking_uri(resolved)
    # Register where we track, unless a separate registry is configured on purpose.
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI") or resolved)
    mlflow.set_experiment(experiment)
    ev = run.evaluation
    y = ev.test["label"].to_numpy()
    with (
        mlflow.start_run(run_name=readable_run_name(run)) as active,
        tempfile.TemporaryDirectory() as tmp,
    ):
        out = Path(tmp)
        mlflow.log_params(_params(run, manifest))
        mlflow.log_metrics({k: float(v) for k, v in run.metrics.items() if np.isfinite(v)})
        figures = {
            "plots/reliability_diagram.png": reliability_diagram(
                y,
                {
                    "before calibration": run.uncalibrated_test,
                    "after calibration": ev.test["score"],
                },
            ),
            "plots/pr_curve.png": pr_curve(y, {"LightGBM": ev.test["score"]}),
            "plots/shap_summary.png": _shap_summary(run),
            "fairness/audit.png": audit_plot(ev.audit),
        }
        for name, fig in figures.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=110)
        (out / "fairness").mkdir(exist_ok=True)
        ev.audit.to_csv(out / "fairness" / "audit.csv", index=False)
        if ev.audit_distress is not None:
            ev.audit_distress.to_csv(out / "fairness" / "audit_distress.csv", index=False)
        if run.with_exclusions_included is not None:
            run.with_exclusions_included.audit.to_csv(
                out / "fairness" / "audit_exclusions_included.csv", index=False
            )
        (out / "features.json").write_text(
            json.dumps(
                {
                    "features": list(run.model.features),
                    "excluded": list(run.config.features.exclude),
                },
                indent=2,
            )
        )
        if run.reference is not None:
            # ``risk score`` finds it at the run's root (risk.commands.monitor.find_reference).
            save_reference(run.reference, out / REFERENCE_FILE)
        mlflow.log_artifacts(str(out))
        info = log_risk_model(
            run.model, registered_model_name=run.config.model.name if register else None
        )
        version = None
        if register and info.registered_model_version is not None:
            version = str(info.registered_model_version)
            client = mlflow.MlflowClient()
            client.set_registered_model_alias(run.config.model.name, CHALLENGER, version)
            # The registry shows what the card says: use, limits, metrics, gates.
            client.update_model_version(
                run.config.model.name, version, description=card_summary(run)
            )
            gates = check_gates(run.metrics, run.evaluation.audit, run.config.promotion)
            client.set_model_version_tag(
                run.config.model.name, version, TAG_GATES, gate_summary(gates)
            )
        card = render_model_card(
            run, version=version, run_id=active.info.run_id, data_manifest=manifest
        )
        card_path = out / "model_card.md"
        card_path.write_text(card, encoding="utf-8")
        mlflow.log_artifact(str(card_path))
        return active.info.run_id, version
