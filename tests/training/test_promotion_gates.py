"""Promotion gates on hand-made metrics and audits, and a promotion round trip on local MLflow."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import typer
from mlflow.pyfunc import PythonModel
from typer.testing import CliRunner

from tests.paths import REPO
from training import (
    CHAMPION,
    GateResult,
    PromotionError,
    PromotionRefused,
    PromotionSection,
    check_gates,
    fairness_flags,
    load_config,
    promote,
)

PROMO = PromotionSection(
    max_ece=0.02,
    beat_baselines=("logreg", "rule"),
    fairness_band=(0.8, 1.25),
    fairness_attributes=("low_income", "settlement"),
    fairness_metrics=("fpr", "fnr", "ppv"),
    min_group_size=1000,
)

GOOD = {
    "test_roc_auc": 0.85,
    "test_precision_at_capacity": 0.30,
    "test_ece": 0.01,
    "logreg_test_roc_auc": 0.843,
    "logreg_test_precision_at_capacity": 0.25,
    "rule_test_roc_auc": 0.60,
    "rule_test_precision_at_capacity": 0.10,
}


def audit_frame(low_income_fpr: float = 1.1, small_fpr: float = 3.0) -> pd.DataFrame:
    """Reference rows, a large low-income group, and a small district far outside the band."""
    return pd.DataFrame(
        {
            "attribute": ["low_income", "low_income", "settlement", "settlement", "district"],
            "group": ["False", "True", "urban", "rural", "tiny"],
            "n": [5000, 1200, 4000, 300, 50],
            "fpr_ratio": [1.0, low_income_fpr, 1.0, small_fpr, 9.0],
            "fnr_ratio": [1.0, 0.9, 1.0, 0.1, 0.0],
            "ppv_ratio": [1.0, 1.0, 1.0, float("nan"), 0.0],
        }
    )


def by_name(gates: list[GateResult]) -> dict[str, GateResult]:
    return {g.name: g for g in gates}


def test_all_gates_pass_with_their_numbers() -> None:
    gates = by_name(check_gates(GOOD, audit_frame(), PROMO))
    assert all(g.passed for g in gates.values())
    assert gates["beats logreg on test_roc_auc"].detail == "test_roc_auc 0.850 > logreg 0.843"
    assert gates["beats rule on test_precision_at_capacity"].detail == (
        "test_precision_at_capacity 0.300 > rule 0.100"
    )
    assert gates["calibration: test_ece ≤ max_ece"].detail == "test_ece 0.0100 ≤ max_ece 0.0200"
    assert len(gates) == 6


def test_baseline_gate_fails_on_a_tie_or_worse() -> None:
    metrics = {**GOOD, "test_roc_auc": 0.843, "rule_test_precision_at_capacity": 0.31}
    gates = by_name(check_gates(metrics, audit_frame(), PROMO))
    roc = gates["beats logreg on test_roc_auc"]
    assert not roc.passed and roc.detail == "test_roc_auc 0.843 ≤ logreg 0.843"
    prec = gates["beats rule on test_precision_at_capacity"]
    assert not prec.passed and prec.detail == "test_precision_at_capacity 0.300 ≤ rule 0.310"
    assert gates["beats rule on test_roc_auc"].passed


def test_missing_baseline_metric_fails_naming_it() -> None:
    metrics = {k: v for k, v in GOOD.items() if k != "logreg_test_precision_at_capacity"}
    gate = by_name(check_gates(metrics, audit_frame(), PROMO))[
        "beats logreg on test_precision_at_capacity"
    ]
    assert not gate.passed
    assert gate.detail == "metric logreg_test_precision_at_capacity is missing or not finite"


def test_ece_gate_fails_above_max() -> None:
    gate = check_gates({**GOOD, "test_ece": 0.0312}, audit_frame(), PROMO)[4]
    assert not gate.passed
    assert gate.detail == "test_ece 0.0312 > max_ece 0.0200"


def test_fairness_flag_fails_and_small_groups_are_ignored() -> None:
    gate = check_gates(GOOD, audit_frame(low_income_fpr=2.69), PROMO)[-1]
    assert not gate.passed
    assert "1 unexplained: low_income=True:fpr_ratio 2.69 (n=1,200)" in gate.detail
    # rural (n=300) and the district (not a fairness attribute) are out of scope
    assert "rural" not in gate.detail and "tiny" not in gate.detail


@pytest.mark.parametrize("explained", ["low_income=True:fpr_ratio", "low_income:fpr_ratio"])
def test_explained_flags_are_accepted_in_either_form(explained: str) -> None:
    promo = PromotionSection(**{**PROMO.__dict__, "explained_fairness_flags": (explained,)})
    gate = check_gates(GOOD, audit_frame(low_income_fpr=0.5), promo)[-1]
    assert gate.passed
    assert (
        "1 explained in the model definition: low_income=True:fpr_ratio 0.50 (n=1,200)"
        in gate.detail
    )


def test_an_explanation_for_another_metric_does_not_cover_a_flag() -> None:
    promo = PromotionSection(
        **{**PROMO.__dict__, "explained_fairness_flags": ("low_income:fnr_ratio",)}
    )
    assert not check_gates(GOOD, audit_frame(low_income_fpr=2.0), promo)[-1].passed


def test_band_edges_and_nan_ratios_are_not_flags() -> None:
    audit = audit_frame(low_income_fpr=0.4 / 0.5)
    audit.loc[1, "fnr_ratio"] = 1.25
    audit.loc[1, "ppv_ratio"] = float("nan")
    assert fairness_flags(audit, PROMO) == []
    smaller = PromotionSection(**{**PROMO.__dict__, "min_group_size": 100})
    assert [f[0] for f in fairness_flags(audit, smaller)] == [
        "settlement=rural:fpr_ratio",
        "settlement=rural:fnr_ratio",
    ]


def test_audit_without_ratio_columns_is_an_error() -> None:
    with pytest.raises(PromotionError, match="lacks column.*ppv_ratio"):
        check_gates(GOOD, audit_frame().drop(columns=["ppv_ratio"]), PROMO)


def test_only_promote_sets_the_champion_alias() -> None:
    root = REPO
    offenders = []
    for package in ("risk", "features", "training", "review_app"):
        for file in (root / package).rglob("*.py"):
            text = file.read_text("utf-8")
            if re.search(r"set_registered_model_alias", text) and re.search(
                r"champion", text, re.IGNORECASE
            ):
                offenders.append(file.relative_to(root).as_posix())
    assert offenders == ["training/_promote.py"]


# --- round trip on a local MLflow store ---------------------------------------------------

THIRD_PARTY = [
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::UserWarning:mlflow.*",
    "ignore::DeprecationWarning:alembic.*",
    "ignore::DeprecationWarning:sqlalchemy.*",
    "ignore::DeprecationWarning:pydantic.*",
]
NAME = "gate-test-model"


class Constant(PythonModel):
    """A trivial model: the registry needs something to version."""

    def predict(self, context: object, model_input: pd.DataFrame, params: object = None) -> list:
        return [0.5] * len(model_input)


def _log_version(tmp: Path, metrics: dict[str, float], audit: pd.DataFrame) -> str:
    csv = tmp / "audit.csv"
    audit.to_csv(csv, index=False)
    with mlflow.start_run():
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(csv), "fairness")
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Constant(), registered_model_name=NAME, pip_requirements=[]
        )
    return str(info.registered_model_version)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp}/mlflow.db"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        exp = mlflow.create_experiment("gates", artifact_location=(tmp / "artifacts").as_uri())
        mlflow.set_experiment(experiment_id=exp)
        good = _log_version(tmp, GOOD, audit_frame())
        bad = _log_version(
            tmp, {**GOOD, "test_ece": 0.05, "test_roc_auc": 0.80}, audit_frame(low_income_fpr=2.0)
        )
        mlflow.MlflowClient().set_registered_model_alias(NAME, "challenger", bad)
    finally:
        mlflow.set_tracking_uri(previous)
    return {"uri": uri, "good": good, "bad": bad}


def _aliases(uri: str, version: str) -> list[str]:
    return list(mlflow.MlflowClient(tracking_uri=uri).get_model_version(NAME, version).aliases)


CONFIG = load_config()
GATED = PromotionSection(**{**CONFIG.promotion.__dict__, "fairness_attributes": ("low_income",)})
CFG = type(CONFIG)(**{**CONFIG.__dict__, "promotion": GATED})


@pytest.mark.filterwarnings(*THIRD_PARTY)
def test_refusal_leaves_champion_unset_and_names_every_failed_gate(store: dict[str, str]) -> None:
    with pytest.raises(PromotionRefused) as refused:
        promote(model_name=NAME, tracking_uri=store["uri"], config=CFG)  # the challenger
    message = str(refused.value)
    assert f"version {store['bad']} not promoted" in message
    for gate in ("beats logreg on test_roc_auc", "calibration", "no unexplained fairness flag"):
        assert gate in message
    assert "low_income=True:fpr_ratio 2.00" in message
    assert "beats rule on test_roc_auc" not in message
    assert len(refused.value.result.gates) == 6
    assert CHAMPION not in _aliases(store["uri"], store["bad"])


@pytest.mark.filterwarnings(*THIRD_PARTY)
def test_good_version_becomes_champion_with_tags(store: dict[str, str]) -> None:
    result = promote(store["good"], model_name=NAME, tracking_uri=store["uri"], config=CFG)
    assert result.promoted and result.version == store["good"]
    assert all(g.passed for g in result.gates)
    assert CHAMPION in _aliases(store["uri"], store["good"])
    tags = (
        mlflow.MlflowClient(tracking_uri=store["uri"]).get_model_version(NAME, store["good"]).tags
    )
    assert tags["promotion_gates"].startswith("6/6 passed")
    assert "promoted_at" in tags


@pytest.mark.filterwarnings(*THIRD_PARTY)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"version": "99"}, f"{NAME}' has no version 99"),
        ({"version": "staging"}, f"{NAME}' has no alias 'staging'"),
        ({"model_name": "no-such-model"}, "no registered model 'no-such-model'"),
    ],
)
def test_unknown_version_alias_or_model_is_named(
    store: dict[str, str], kwargs: dict[str, str], match: str
) -> None:
    args = {"model_name": NAME, **kwargs}
    version = args.pop("version", None)
    with pytest.raises(PromotionError, match=match):
        promote(version, tracking_uri=store["uri"], config=CFG, **args)


@pytest.mark.filterwarnings(*THIRD_PARTY)
def test_cli_prints_each_gate_and_exits_2_on_refusal(
    store: dict[str, str], tmp_path: Path, cli: typer.Typer
) -> None:
    toml = (
        Path(CONFIG.path)
        .read_text("utf-8")
        .replace(
            'fairness_attributes = ["district", "settlement", "single_parent", "large_family", '
            '"disabled_child", "low_income"]',
            'fairness_attributes = ["low_income"]',
        )
    )
    assert 'fairness_attributes = ["low_income"]' in toml
    config = tmp_path / "model.toml"
    config.write_text(toml, "utf-8")
    common = [
        "promote",
        "--tracking-uri",
        store["uri"],
        "--model-name",
        NAME,
        "--config",
        str(config),
    ]
    refused = CliRunner().invoke(cli, [*common, "--version", store["bad"]])
    assert refused.exit_code == 2
    assert "✗ calibration: test_ece ≤ max_ece: test_ece 0.0500 > max_ece 0.0200" in refused.output
    assert "✓ beats rule on test_roc_auc" in refused.output
    assert "not promoted" in refused.output
    promoted = CliRunner().invoke(cli, [*common, "--version", store["good"]])
    assert promoted.exit_code == 0, promoted.output
    assert promoted.output.count("✓") == 6
    assert f"promoted {NAME} version {store['good']}" in promoted.output


def _full_audit(*, prevalence_ratio: float, ece: float, ci: tuple[float, float]) -> pd.DataFrame:
    """Reference and low-income rows with the columns the explanations read."""
    ref_fpr = 0.01
    return pd.DataFrame(
        {
            "attribute": ["low_income", "low_income"],
            "group": ["False", "True"],
            "n": [5000, 1500],
            "is_reference": [True, False],
            "fpr": [ref_fpr, 0.04],
            "fpr_ci_low": [0.008, ci[0]],
            "fpr_ci_high": [0.012, ci[1]],
            "fpr_ratio": [1.0, 4.0],
            "fnr_ratio": [1.0, 1.0],
            "ppv_ratio": [1.0, 1.0],
            "prevalence_ratio": [1.0, prevalence_ratio],
            "ece": [0.004, ece],
        }
    )


def test_a_ratio_within_bootstrap_noise_is_not_a_failure() -> None:
    audit = _full_audit(prevalence_ratio=1.0, ece=0.05, ci=(0.005, 0.09))
    gate = check_gates(GOOD, audit, PROMO)[-1]
    assert gate.passed
    assert "1 within bootstrap noise: low_income=True:fpr_ratio 4.00 (n=1,500)" in gate.detail


def test_a_base_rate_difference_alone_explains_nothing() -> None:
    # A calibrated score and a higher base rate: a person must still explain the disparity.
    audit = _full_audit(prevalence_ratio=2.5, ece=0.01, ci=(0.03, 0.05))
    gate = check_gates(GOOD, audit, PROMO)[-1]
    assert not gate.passed
    assert "1 unexplained: low_income=True:fpr_ratio 4.00 (n=1,500)" in gate.detail


def test_a_flag_explained_at_promotion_passes() -> None:
    audit = _full_audit(prevalence_ratio=2.5, ece=0.01, ci=(0.03, 0.05))
    promo = PromotionSection(
        **{**PROMO.__dict__, "explained_at_promotion": ("low_income:fpr_ratio",)}
    )
    gate = check_gates(GOOD, audit, promo)[-1]
    assert gate.passed
    assert "1 explained at promotion: low_income=True:fpr_ratio" in gate.detail


def test_a_disparity_the_model_makes_stays_unexplained() -> None:
    # Surveillance bias: more records at the same distress, so the group is over-scored
    # (miscalibrated within the group) even though its base rate differs too.
    audit = _full_audit(prevalence_ratio=2.5, ece=0.06, ci=(0.03, 0.05))
    gate = check_gates(GOOD, audit, PROMO)[-1]
    assert not gate.passed
    assert "1 unexplained: low_income=True:fpr_ratio 4.00 (n=1,500)" in gate.detail
