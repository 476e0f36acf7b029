"""``risk train --table``: training, evaluation, audit and registry on any feature table."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from features import build_features, load_records
from tests.paths import SAMPLE
from training import ModelConfig, RandomSplit, TableError, TrainingRun, load_config, train_table
from training._fit import fit_single_feature_rule
from training._table_inputs import stratified_split

AS_OF = "2024-01-01"
GROUPS = ("district", "low_income")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Features at one as-of date, the truth's label, two group columns and the family id."""
    records = load_records(SAMPLE)
    X = build_features(records, AS_OF)
    snaps = pd.read_parquet(SAMPLE / "truth" / "snapshots.parquet")
    snaps = snaps[pd.to_datetime(snaps["as_of"]) == pd.Timestamp(AS_OF)].set_index("family_id")
    fams = pd.read_parquet(SAMPLE / "truth" / "families.parquet").set_index("family_id")
    ids = X.index
    extra = pd.DataFrame(
        {
            "family_id": ids.astype(str),
            "label": snaps["label"].reindex(ids).to_numpy(),
            "district": fams["district"].reindex(ids).to_numpy(),
        },
        index=ids,
    )
    extra["low_income"] = fams["low_income"].reindex(ids).to_numpy()
    out = pd.concat([extra, X.drop(columns=["low_income"])], axis=1).reset_index(drop=True)
    assert out["label"].notna().all()
    return out


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    cfg = load_config()
    lgb = replace(
        cfg.lightgbm,
        params={**cfg.lightgbm.params, "min_child_samples": 20},
        num_boost_round=150,
        early_stopping_rounds=30,
    )
    return replace(cfg, lightgbm=lgb, model=replace(cfg.model, name="table-model"))


@pytest.fixture(scope="module")
def run(table: pd.DataFrame, config: ModelConfig) -> TrainingRun:
    return train_table(
        table,
        label="label",
        groups=GROUPS,
        id_column="family_id",
        config=config,
        test_size=0.3,
        n_boot=30,
    )


def test_groups_and_id_are_never_inputs(run: TrainingRun, table: pd.DataFrame) -> None:
    feats = set(run.model.features)
    assert not feats & {"label", "family_id", *GROUPS}
    # exclusions of the model definition hold for tables too; every other numeric column enters
    assert not feats & set(run.config.features.exclude)
    expected = set(table.columns) - {"label", "family_id", *GROUPS, *run.config.features.exclude}
    assert feats == expected
    assert run.model.metadata["feature_source"] == "table"
    assert run.model.name == "table-model"
    assert isinstance(run.split, RandomSplit)


def test_metrics_present_and_sane(run: TrainingRun) -> None:
    m = run.metrics
    for key in (
        "test_roc_auc",
        "test_pr_auc",
        "test_brier",
        "test_ece",
        "test_precision_at_capacity",
        "test_recall_at_capacity",
        "logreg_test_roc_auc",
        "rule_test_roc_auc",
    ):
        assert np.isfinite(m[key]), key
    assert m["test_roc_auc"] > 0.7
    assert 0 <= m["test_brier"] < 0.1
    assert m["test_roc_auc_ci_low"] <= m["test_roc_auc"] <= m["test_roc_auc_ci_high"]
    n = run.n_rows
    assert m["test_n"] == n["test"]
    assert abs(n["test"] / sum(n.values()) - 0.3) < 0.01
    assert any("best single feature" in note for note in run.notes)


def test_audit_has_the_group_attributes(run: TrainingRun) -> None:
    audit = run.evaluation.audit
    assert set(audit["attribute"].astype(str)) == set(GROUPS)
    n_test = run.n_rows["test"]
    assert audit.groupby("attribute")["n"].sum().eq(n_test).all()
    # capacity per district: no district flags more than its capacity
    flagged = audit[audit["attribute"] == "district"].set_index("group")["n_flagged"]
    cap = run.model.capacity
    assert all(flagged[d] <= cap.for_district(str(d)) for d in flagged.index)


def test_split_is_stratified_and_disjoint() -> None:
    y = np.r_[np.zeros(900, dtype=np.int8), np.ones(100, dtype=np.int8)]
    tr, va, te = stratified_split(y, test_size=0.2, validation_size=0.2, seed=3)
    assert len(np.intersect1d(tr, va)) == len(np.intersect1d(tr, te)) == 0
    assert len(tr) + len(va) + len(te) == len(y)
    assert [int(y[p].sum()) for p in (tr, va, te)] == [60, 20, 20]


def test_single_feature_rule_picks_the_strongest_column() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    X = pd.DataFrame({"noise": rng.normal(size=500), "signal": -y + rng.normal(0, 0.3, 500)})
    X.loc[:5, "signal"] = np.nan
    rule = fit_single_feature_rule(X, y)
    assert (rule.feature, rule.direction) == ("signal", -1)
    s = rule.score(X)
    assert ((s >= 0) & (s <= 1)).all()


def test_cli_trains_logs_and_registers_challenger(
    table: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: typer.Typer
) -> None:
    import mlflow
    from typer.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "table.parquet"
    table.to_parquet(path)
    cfg = tmp_path / "model.toml"
    text = Path(load_config().path).read_text("utf-8")
    text = text.replace('name = "family-distress"', 'name = "cli-table"')
    text = text.replace("num_boost_round = 600", "num_boost_round = 60")
    text = text.replace("min_child_samples = 200", "min_child_samples = 20")
    cfg.write_text(text, "utf-8")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["train", "--table", str(path), "--label", "label", "--group", "district"]
    args += ["--group", "low_income", "--id", "family_id", "--config", str(cfg)]
    args += ["--tracking-uri", uri, "--n-boot", "10", "--card-dir", str(tmp_path / "cards")]
    # log_training_run sets the tracking URI only: a registry URI another test set globally
    # would otherwise receive the registration
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_registry_uri(uri)
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    assert result.exit_code == 0, result.output
    assert "registered cli-table version 1 as 'challenger'" in result.output
    assert "best single feature" in result.output
    assert (tmp_path / "cards" / "cli-table-v1.md").exists()

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    mv = client.get_model_version_by_alias("cli-table", "challenger")
    assert str(mv.version) == "1"
    run_id = mv.run_id
    assert run_id is not None
    logged = client.get_run(run_id).data
    for key in ("test_roc_auc", "test_ece", "logreg_test_roc_auc", "rule_test_roc_auc"):
        assert np.isfinite(logged.metrics[key]), key
    assert logged.params["split_method"] == "random, stratified by label"
    assert logged.params["rule"] == "best_single_feature"
    arts = {a.path for a in client.list_artifacts(run_id)}
    assert {"model_card.md", "features.json", "fairness", "plots"} <= arts
    nested = {a.path for d in ("fairness", "plots") for a in client.list_artifacts(run_id, d)}
    assert {"fairness/audit.csv", "fairness/audit.png", "plots/shap_summary.png"} <= nested
    card = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="model_card.md", tracking_uri=uri
        )
    ).read_text("utf-8")
    assert "random split" in card and "best single feature" in card
    assert "user-supplied feature table" in card
    features = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="features.json", tracking_uri=uri
            )
        ).read_text("utf-8")
    )["features"]
    assert not {"label", "family_id", *GROUPS} & set(features)
    # the registered pyfunc scores a table's feature columns like any other model (the logged
    # signature asks for float64, as for records models)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        model = mlflow.pyfunc.load_model("models:/cli-table@challenger")
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    out = model.predict(table.loc[:9, features].astype("float64"))
    assert ((out["score"] > 0) & (out["score"] < 1)).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "x", "--table", "y.parquet"], "exactly one of --data DIR .* got both"),
        ([], "exactly one of --data DIR .* got neither"),
        (["--table", "t.parquet"], "--table needs --label"),
    ],
)
def test_cli_options_are_exclusive(
    args: list[str], message: str, tmp_path: Path, cli: typer.Typer
) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 2
    assert re.search(message, result.output), result.output


def _small(table: pd.DataFrame) -> pd.DataFrame:
    return table[["family_id", "label", "district", "low_income", "school_absence_n_365d"]]


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (None, {"label": "outcome"}, "the table has no label column 'outcome'"),
        (
            lambda t: t.assign(label=t["label"] * 2),
            {"label": "label", "groups": ["district"], "id_column": "family_id"},
            "label column 'label' must be binary .* are not, e.g. \\[2.0\\]",
        ),
        (
            lambda t: t.assign(label=t["label"].astype(float).where(t.index > 3)),
            {"label": "label", "groups": ["district"], "id_column": "family_id"},
            "label column 'label': 4 value\\(s\\) are missing",
        ),
        (
            None,
            {"label": "label", "groups": ["district", "label"]},
            "'label' is given as label and group",
        ),
        (
            None,
            {"label": "label", "groups": ["district"], "id_column": "district"},
            "'district' is given as group and id",
        ),
        (None, {"label": "label", "groups": ["region"]}, "no group column 'region'"),
        (
            None,
            {"label": "label", "groups": ["low_income"]},
            "non-numeric column\\(s\\) 'family_id' \\(str\\), 'district' \\(str\\)",
        ),
        (
            lambda t: t.head(120),
            {"label": "label", "groups": ["district"], "id_column": "family_id"},
            "label column 'label': each of train, validation and test needs at least 5 positive",
        ),
    ],
)
def test_validation_errors_name_the_column(
    table: pd.DataFrame,
    config: ModelConfig,
    change: Callable[[pd.DataFrame], pd.DataFrame] | None,
    kwargs: dict[str, object],
    message: str,
) -> None:
    frame = _small(table) if change is None else change(_small(table))
    with pytest.raises(TableError, match=message):
        train_table(frame, config=config, n_boot=0, **kwargs)  # type: ignore[arg-type]


def test_validation_does_not_mutate_the_table(table: pd.DataFrame, config: ModelConfig) -> None:
    frame = _small(table)
    before = frame.copy()
    with pytest.raises(TableError):
        train_table(frame, label="label", config=config)
    pd.testing.assert_frame_equal(frame, before)


def test_the_card_says_monotone_constraints_do_not_apply_to_a_table(run: TrainingRun) -> None:
    from training import render_model_card

    section = render_model_card(run).split("## Monotone constraints")[1].split("\n## ")[0]
    assert "Not applied" in section
    assert not any("unconstrained" in key for key in run.metrics)
