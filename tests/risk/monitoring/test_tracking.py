"""Scoring runs logged to a local MLflow store, read back by ``risk monitor``."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from family_risk.cli import app
from risk.commands.monitor import find_reference
from risk.monitoring import (
    EXPERIMENT,
    RUN_COLUMNS,
    check_integrity,
    drift_report,
    expected_performance,
    log_scoring_run,
    read_scoring_runs,
    save_reference,
    scoring_run_record,
)
from tests.risk.monitoring.conftest import AS_OF, ROOT, SAMPLE, without_source

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::UserWarning:mlflow.*",
    "ignore::DeprecationWarning:alembic.*",
    "ignore::DeprecationWarning:sqlalchemy.*",
    "ignore::DeprecationWarning:pydantic.*",
)


def _record(records, screening, reference, model):
    integrity = check_integrity(
        records, AS_OF, reference=reference, lookback_days=model.lookback_days
    )
    scores = screening.scores
    return scoring_run_record(
        scores=scores,
        integrity=integrity,
        drift=drift_report(
            reference.features, reference.score, screening.features, scores["score"]
        ),
        performance=expected_performance(scores),
        reference=reference,
        model_name=model.name,
        model_version=model.version,
        model_uri="/models/family-distress",
        as_of=AS_OF,
        region="novgorod",
        run_id="family-distress-vlocal-2024-07-01-0123456789ab",
    )


def test_a_logged_run_reads_back_and_holds_no_family_row(
    records, screening, reference, model, tmp_path
):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    record = _record(records, screening, reference, model)
    rid = log_scoring_run(record, tracking_uri=uri)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(rid)
    assert run.info.run_name == "score-2024-07-01-01234567"
    assert client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert run.data.params["as_of"] == AS_OF and run.data.params["region"] == "novgorod"
    assert run.data.metrics["population"] == len(screening.scores)
    assert run.data.metrics["flags.velikiy_novgorod"] == 30
    assert run.data.metrics["degraded"] == 0.0
    assert run.data.tags["degraded"] == "false" and run.data.tags["missing_feeds"] == "none"
    for key in ("score_psi", "max_feature_psi", "expected_precision", "score_q50"):
        assert key in run.data.metrics

    local = Path(client.download_artifacts(rid, "", str(tmp_path / "artifacts")))
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert files == [
        "drift/drift.csv",
        "integrity/integrity.csv",
        "performance/expected_performance.csv",
        "performance/flags_by_district.csv",
        "plots/feature_psi.png",
        "plots/score_distribution.png",
        "plots/volumes_heatmap.png",
    ]
    ids = set(records.families["family_id"].astype(str))
    pattern = re.compile(rb"F\d{6}")
    for file in local.rglob("*"):
        if file.is_file():
            found = {m.decode() for m in pattern.findall(file.read_bytes())}
            assert not found & ids, f"{file.name} names families"

    runs = read_scoring_runs(uri)
    assert list(runs.columns) == list(RUN_COLUMNS) and len(runs) == 1
    assert runs.loc[0, "max_psi_feature"] == record.tags["max_psi_feature"]
    assert read_scoring_runs(uri, since="2024-08-01").empty

    # A registered model finds the reference its training run logged.
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        experiment = client.create_experiment("training", (tmp_path / "training").as_uri())
        training = client.create_run(experiment).info
        client.log_artifact(training.run_id, str(save_reference(reference, tmp_path)))
        client.create_registered_model("family-distress")
        client.create_model_version(
            "family-distress", f"{training.artifact_uri}/model", training.run_id
        )
        client.set_registered_model_alias("family-distress", "champion", "1")
        assert find_reference("models:/family-distress@champion") == reference
        assert find_reference(f"runs:/{training.run_id}/model") == reference
        assert find_reference("models:/family-distress/7") is None
        assert find_reference(f"runs:/{rid}/model") is None  # a scoring run has none
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])


@pytest.fixture()
def model_dir(model, reference, tmp_path) -> Path:
    folder = tmp_path / "model"
    model.save(folder)
    save_reference(reference, folder)
    return folder


def _score(runner, data, as_of, model_dir, tmp_path, *extra):
    args = ["score", "--data", str(data), "--as-of", as_of, "--model", str(model_dir)]
    args += ["--store", f"sqlite:///{tmp_path / 'queue.db'}", *extra]
    return runner.invoke(app, args)


def test_risk_score_logs_each_run_and_risk_monitor_alerts_on_a_degraded_one(
    records, model_dir, tmp_path, monkeypatch
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracking = ("--tracking-uri", uri)

    empty = runner.invoke(app, ["monitor", *tracking])
    assert empty.exit_code == 0 and "no scoring runs" in empty.output

    quiet = _score(runner, SAMPLE, "2024-04-01", model_dir, tmp_path)
    assert quiet.exit_code == 0, quiet.output
    assert "monitoring not logged: no tracking URI" in quiet.output

    clean = _score(runner, SAMPLE, "2024-01-01", model_dir, tmp_path, *tracking)
    assert clean.exit_code == 0, clean.output
    assert "monitoring logged: MLflow experiment family-distress-screening" in clean.output

    broken = tmp_path / "broken"
    without_source(records, "police", "borovichsky", since="2024-01-01").to_parquet(broken)
    refused = _score(runner, broken, AS_OF, model_dir, tmp_path, *tracking, "--on-degraded", "fail")
    assert refused.exit_code == 2, refused.output
    assert "Police: no records in borovichsky (Borovichsky district)" in refused.output
    assert "nothing enqueued" in refused.output and "flags enqueued" not in refused.output
    warned = _score(runner, broken, AS_OF, model_dir, tmp_path, *tracking)
    assert warned.exit_code == 0, warned.output
    assert "flags still go to specialists" in warned.output
    assert "(already present: 0)" in warned.output  # the refused run enqueued nothing
    # Every card of the degraded district says the police feed is missing; no other does.
    from review_app._card import blind_spots
    from risk.review import ReviewQueue

    with ReviewQueue(f"sqlite:///{tmp_path / 'queue.db'}") as queue, queue._engine.begin() as c:
        rows = c.exec_driver_sql("SELECT payload_json FROM flag_payloads").scalars().all()
    # The warned run's items (the store also holds the earlier runs of the sample).
    payloads = [p for p in map(json.loads, rows) if p["as_of"] == AS_OF]
    assert payloads
    for p in payloads:
        expected = ["police"] if p["district"] == "borovichsky" else []
        assert p["missing_sources"] == expected, p["district"]
    shown_ru = [blind_spots(p, "ru") for p in payloads if p["district"] == "borovichsky"]
    assert shown_ru and all("Данные неполные" in text and "Полиция" in text for text in shown_ru)

    report = tmp_path / "report.html"
    shown = runner.invoke(app, ["monitor", *tracking, "--out", str(report)])
    assert shown.exit_code == 3, shown.output
    lines = shown.output.splitlines()
    assert re.search(r"2024-01-01\s+local\s+\d+\s+\d+\s+no\s", shown.output)
    assert sum("DEGRADED" in line for line in lines) == 2  # refused and warned: both on record
    assert "alert: all runs: degraded runs: 2, allowed 0" in shown.output
    html = report.read_text("utf-8")
    assert html.count("data:image/png;base64,") >= 4 and "borovichsky: police" in html

    lenient = tmp_path / "lenient.toml"
    text = (ROOT / "models" / "family_distress.toml").read_text("utf-8")
    lenient.write_text(text.replace("max_degraded_runs = 0", "max_degraded_runs = 2"), "utf-8")
    calm = runner.invoke(app, ["monitor", *tracking, "--config", str(lenient)])
    assert calm.exit_code == 0, calm.output
    since = runner.invoke(app, ["monitor", *tracking, "--since", "2024-06-01"])
    assert since.exit_code == 3 and "2024-01-01" not in since.output

    strict = tmp_path / "strict.toml"
    for old, new in [
        ("psi_warn = 0.1 ", "psi_warn = 0.001 "),
        ("psi_alert = 0.25", "psi_alert = 0.002"),
        ("max_degraded_runs = 0", "max_degraded_runs = 2"),
    ]:
        text = text.replace(old, new)
    strict.write_text(text, "utf-8")
    drifted = runner.invoke(app, ["monitor", *tracking, "--config", str(strict)])
    assert drifted.exit_code == 3 and "score PSI" in drifted.output


def test_risk_monitor_needs_a_tracking_uri_and_a_date(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()
    missing = runner.invoke(app, ["monitor"])
    assert missing.exit_code == 2 and "no tracking URI" in missing.output
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    bad = runner.invoke(app, ["monitor", "--tracking-uri", uri, "--since", "soon"])
    assert bad.exit_code == 2 and "--since must be a date" in bad.output
    assert not (tmp_path / "mlflow.db").exists()  # refused before the store was opened


def test_on_degraded_takes_warn_or_fail(model_dir, tmp_path):
    result = _score(CliRunner(), SAMPLE, AS_OF, model_dir, tmp_path, "--on-degraded", "stop")
    assert result.exit_code == 2 and "--on-degraded must be 'warn' or 'fail'" in result.output


def test_risk_monitor_holds_a_matured_run_against_what_it_expected(model_dir, tmp_path):
    runner = CliRunner()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    scores = tmp_path / "scores.parquet"
    scored = _score(runner, SAMPLE, "2024-01-01", model_dir, tmp_path, "--out", str(scores))
    assert scored.exit_code == 0, scored.output
    shown = runner.invoke(
        app, ["monitor", "--tracking-uri", uri, "--scores", str(scores), "--data", str(SAMPLE)]
    )
    assert shown.exit_code == 0, shown.output
    assert "realised against expected, run as of 2024-01-01" in shown.output
    assert "realised_precision" in shown.output and "settlement" in shown.output
    # A run whose horizon has not passed by the extraction date has no labels yet.
    late = tmp_path / "late.parquet"
    assert (
        _score(runner, SAMPLE, "2025-06-30", model_dir, tmp_path, "--out", str(late)).exit_code == 0
    )
    refused = runner.invoke(
        app, ["monitor", "--tracking-uri", uri, "--scores", str(late), "--data", str(SAMPLE)]
    )
    assert refused.exit_code == 2
    assert "labels have not matured" in refused.output and "2025-12-31" in refused.output
    needs_data = runner.invoke(app, ["monitor", "--tracking-uri", uri, "--scores", str(scores)])
    assert needs_data.exit_code == 2 and "--scores needs --data" in needs_data.output
