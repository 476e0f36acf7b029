"""Screener and Screening on the committed 2,000-family sample with a tiny model trained here."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from features import FEATURES, SOURCES, build_features, load_records
from risk import (
    Capacity,
    Explanation,
    ModelError,
    RiskModel,
    Screener,
    Screening,
    ScreeningError,
    UnknownFamily,
    load_catalog,
    validate_payload,
)
from risk._screening import SCORE_COLUMNS, SUMMARY_COLUMNS
from risk.review import ReviewQueue
from tests.paths import REPO, SAMPLE
from tests.risk.small_model import train_small_model

ROOT = REPO
TRAIN_DATES = ["2022-01-01", "2022-07-01", "2023-01-01", "2023-07-01"]
AS_OF = "2024-07-01"
CAPACITY = Capacity(default=5, per_district={"velikiy_novgorod": 12}, min_score=0.05)
PAYLOAD_KEYS = {
    "family_id", "district", "settlement", "as_of", "model_name", "model_version", "score",
    "log_odds", "base_log_odds", "baseline", "base_rate", "tier", "rank_in_district", "capacity",
    "lookback_days", "composition", "contributions", "by_domain", "coverage", "needs", "services",
    "timeline", "missing_sources",
}  # fmt: skip


@pytest.fixture(scope="module")
def records():
    return load_records(SAMPLE)


@pytest.fixture(scope="module")
def model(records) -> RiskModel:
    truth = pd.read_parquet(SAMPLE / "truth" / "snapshots.parquet")
    return train_small_model(records, truth, TRAIN_DATES, CAPACITY)


@pytest.fixture(scope="module")
def screener(model) -> Screener:
    return Screener(model, catalog=load_catalog())


@pytest.fixture(scope="module")
def screening(screener, records) -> Screening:
    return screener.screen(records, AS_OF)


def some_families(screening: Screening, n: int = 25) -> list[str]:
    """Every flagged family and ``n`` others drawn with a fixed seed."""
    scores = screening.scores
    others = scores.loc[~scores["flagged"], "family_id"].sample(n, random_state=0).tolist()
    return screening.flagged_ids + others


# ---- scores, tiers, flags ------------------------------------------------------------------


def test_scores_frame_is_advisory_and_has_no_decision_column(screening, model):
    scores = screening.scores
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert scores["advisory"].all()
    assert not [c for c in scores.columns if re.search(r"decision|action|decide", c, re.I)]
    assert scores["family_id"].is_unique
    assert set(scores["tier"]) <= {"priority", "support", "universal"}
    assert (scores["model_version"] == model.version).all()
    assert (scores["as_of"] == pd.Timestamp(AS_OF)).all()


def test_scores_are_the_calibrated_model(screening, model, records):
    X = build_features(records, AS_OF, lookback_days=model.lookback_days)
    scores = screening.scores.set_index("family_id").loc[X.index]
    np.testing.assert_allclose(scores["log_odds"], model.log_odds(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(scores["score"], 1 / (1 + np.exp(-scores["log_odds"])), atol=1e-15)
    raw = model.booster.predict(X.loc[:, list(model.features)].to_numpy(), raw_score=True)
    expected = model.calibration.intercept + model.calibration.slope * raw
    np.testing.assert_allclose(scores["log_odds"], expected, atol=1e-12)


def test_flag_count_invariant(screening):
    scores = screening.scores
    assert screening.capacity == CAPACITY
    for district, group in scores.groupby("district"):
        eligible = int((group["score"] >= CAPACITY.min_score).sum())
        assert group["flagged"].sum() == min(CAPACITY.for_district(district), eligible)
        ranks = np.sort(group["rank_in_district"].to_numpy())
        np.testing.assert_array_equal(ranks, np.arange(1, len(group) + 1))
    assert scores["flagged"].sum() == (scores["tier"] == "priority").sum()
    assert (scores["flagged"] == (scores["tier"] == "priority")).all()
    support = scores[scores["tier"] == "support"]
    assert (support["score"] >= CAPACITY.min_score).all()
    assert (scores.loc[scores["tier"] == "universal", "score"] < CAPACITY.min_score).all()
    summary = screening.summary()
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary["families"].sum() == len(scores)
    assert summary["flagged"].sum() == scores["flagged"].sum()
    assert (summary["flagged"] == summary["priority"]).all()
    assert (summary[["priority", "support", "universal"]].sum(axis=1) == summary["families"]).all()


def test_capacity_from_the_call(screener, records, screening):
    more = screener.screen(records, AS_OF, capacity=40)
    assert set(screening.flagged_ids) <= set(more.flagged_ids)
    assert more.capacity.default == 40 and more.capacity.min_score == CAPACITY.min_score
    mapped = screener.screen(records, AS_OF, capacity={"shimsky": 0})
    flagged = mapped.scores[mapped.scores["flagged"]]
    assert "shimsky" not in set(flagged["district"])
    assert (flagged["district"] == "velikiy_novgorod").sum() == min(
        12, int((screening.scores.query("district == 'velikiy_novgorod'")["score"] >= 0.05).sum())
    )


def test_raising_capacity_never_removes_a_flag(screener, records):
    previous: set[str] = set()
    for cap in (0, 1, 3, 8, 20, 100):
        flags = set(screener.screen(records, AS_OF, capacity=cap).flagged_ids)
        assert previous <= flags
        previous = flags


def test_permuting_input_rows_changes_no_score(screener, records, screening):
    rng = np.random.default_rng(1)

    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    permuted = records.replace(
        families=shuffled(records.families),
        members=shuffled(records.members),
        events=shuffled(records.events),
    )
    again = screener.screen(permuted, AS_OF).scores
    pd.testing.assert_frame_equal(again, screening.scores)


# ---- explanations --------------------------------------------------------------------------


def test_contributions_add_up_to_the_log_odds(screening):
    scores = screening.scores.set_index("family_id")
    for fid in some_families(screening):
        e = screening.explain(fid)
        assert isinstance(e, Explanation)
        total = e.base_log_odds + e.contributions["contribution"].sum()
        assert abs(total - e.log_odds) <= 1e-6
        assert e.log_odds == scores.loc[fid, "log_odds"]
        assert math.isclose(e.score, scores.loc[fid, "score"], rel_tol=0, abs_tol=1e-15)
        assert abs(e.by_domain.sum() - e.contributions["contribution"].sum()) <= 1e-9


@pytest.mark.filterwarnings("ignore::UserWarning:shap.*")
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:shap.*")
def test_contributions_equal_shap_against_the_typical_family(screening, model):
    import shap

    assert model.baseline == "typical"
    fids = some_families(screening)
    X = screening.features.loc[fids, list(model.features)].to_numpy(dtype=np.float64)
    typical = np.array([[model.reference[f] for f in model.features]])
    explainer = shap.TreeExplainer(
        model.booster, data=typical, feature_perturbation="interventional", model_output="raw"
    )
    expected = np.asarray(explainer.shap_values(X)) * model.calibration.slope
    # The base is the typical family's own calibrated log-odds.
    frame = pd.DataFrame(typical, columns=list(model.features))
    expected_base = float(model.log_odds(frame)[0])
    for i, fid in enumerate(fids):
        e = screening.explain(fid)
        assert e.baseline == "typical"
        got = e.contributions.set_index("feature").loc[list(model.features), "contribution"]
        np.testing.assert_allclose(got.to_numpy(), expected[i], rtol=0, atol=1e-6)
        assert abs(e.base_log_odds - expected_base) <= 1e-6


@pytest.mark.filterwarnings("ignore::UserWarning:shap.*")
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:shap.*")
def test_a_model_without_a_typical_family_is_explained_against_the_average_one(screening, model):
    import dataclasses

    import shap

    average = dataclasses.replace(model, reference=None)
    assert average.baseline == "average"
    fids = some_families(screening)
    rows = screening.features.loc[fids, list(model.features)]
    contrib, base = average.contributions(rows)
    explainer = shap.TreeExplainer(model.booster)
    values = np.asarray(explainer.shap_values(rows.to_numpy(dtype=np.float64)))
    np.testing.assert_allclose(contrib.to_numpy(), values * model.calibration.slope, atol=1e-6)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, average.log_odds(rows), atol=1e-6)


def test_explanation_frame_shape_and_order(screening, model):
    fid = screening.flagged_ids[0]
    e = screening.explain(fid)
    c = e.contributions
    assert list(c.columns) == [
        "feature", "value", "contribution", "domain", "description_ru", "description_en",
    ]  # fmt: skip
    assert sorted(c["feature"]) == sorted(model.features)
    assert (np.diff(c["contribution"].abs().to_numpy()) <= 0).all()
    np.testing.assert_array_equal(
        c.set_index("feature").loc[list(model.features), "value"].to_numpy(),
        screening.features.loc[fid, list(model.features)].to_numpy(dtype=np.float64),
    )
    assert list(e.by_domain.index) == ["material", "health_disability", "parenting_relations",
                                       "child_development", "safety"]  # fmt: skip
    assert set(e.coverage) == set(SOURCES)
    for source, seen in e.coverage.items():
        assert seen == bool(screening.features.loc[fid, f"has_{source}_records"])
    for feature, domain in zip(c["feature"], c["domain"], strict=True):
        assert FEATURES[feature].domain == domain


def test_explanations_frame_of_flagged_families(screening, model):
    long = screening.explanations_frame()
    assert list(long.columns) == ["family_id", "feature", "value", "contribution", "domain"]
    assert len(long) == len(screening.flagged_ids) * len(model.features)
    assert set(long["family_id"]) == set(screening.flagged_ids)
    sums = long.groupby("family_id")["contribution"].sum()
    for fid in screening.flagged_ids:
        e = screening.explain(fid)
        assert abs(sums[fid] + e.base_log_odds - e.log_odds) <= 1e-6


def test_explanation_of_others_on_demand_and_unknown_families(screening, records):
    scores = screening.scores
    other = scores.loc[scores["tier"] == "universal", "family_id"].iloc[0]
    assert screening.explain(other) is screening.explain(other)
    with pytest.raises(UnknownFamily, match=r"family 'nobody' is not in the records at 2024-07-01"):
        screening.explain("nobody")
    outside = sorted(set(records.families["family_id"]) - set(scores["family_id"]))[0]
    with pytest.raises(UnknownFamily, match=rf"{outside}.*not in the screening population"):
        screening.explain(outside)
    with pytest.raises(KeyError):
        screening.needs("nobody")


def test_text_in_both_languages(screening):
    e = screening.explain(screening.flagged_ids[0])
    ru, en = e.to_text("ru"), e.to_text("en")
    assert "ничего не решает" in ru and "decides nothing" in en
    top = e.contributions.iloc[0]
    assert top["description_en"].split(" (")[0] in en
    assert ("повышает" if top["contribution"] > 0 else "понижает") in ru
    with pytest.raises(ScreeningError, match="lang"):
        e.to_text("de")  # type: ignore[arg-type]


# ---- needs, services, payloads -------------------------------------------------------------


def test_services_are_available_and_eligible(screening, records):
    catalog = load_catalog().services.set_index("service_id")
    families = records.families.set_index("family_id")
    for fid in screening.flagged_ids:
        district = families.loc[fid, "district"]
        found = screening.services(fid)
        assert (np.diff(found["relevance"].to_numpy()) <= 0).all()
        row = screening.features.loc[fid]
        for sid in found["service_id"]:
            assert district in catalog.loc[sid, "districts"]
            for code in catalog.loc[sid, "eligibility"]:
                if code in ("disabled_child", "low_income", "large_family", "single_parent"):
                    assert row[code] == 1, (fid, sid, code)


def test_needs_follow_contributions_and_context(screening):
    for fid in some_families(screening):
        e = screening.explain(fid)
        row = screening.features.loc[fid]
        found = screening.needs(fid)
        for domain, total in e.by_domain.items():
            if total > 0.05:
                assert domain in found
        if row["low_income"]:
            assert "material" in found
        if row["disabled_child"] or row["disabled_parent"]:
            assert "health_disability" in found
        assert len(found) == len(set(found))


def test_flag_payloads_follow_the_contract(screening, records, model):
    payloads = screening.flag_payloads()
    assert set(payloads) == set(screening.flagged_ids)
    json.dumps(payloads, ensure_ascii=False, allow_nan=False)
    members = records.members.set_index("family_id")
    for fid, p in payloads.items():
        assert validate_payload(p, family_id=fid) is p
        assert set(p) == PAYLOAD_KEYS
        assert p["tier"] == "priority" and p["as_of"] == AS_OF
        assert p["capacity"] == CAPACITY.for_district(p["district"])
        assert p["lookback_days"] == model.lookback_days
        assert abs(p["base_log_odds"] + sum(c["contribution"] for c in p["contributions"])
                   - p["log_odds"]) <= 1e-6  # fmt: skip
        assert len(p["contributions"]) == len(model.features)
        assert {c["unit"] for c in p["contributions"]} <= {
            "count", "days", "roubles", "flag", "years", "months", "per 90 days"}  # fmt: skip
        assert p["composition"]["n_children"] == len(p["composition"]["children_ages"])
        assert all(0 <= a < 18 for a in p["composition"]["children_ages"])
        dates = [t["date"] for t in p["timeline"]]
        assert dates == sorted(dates) and all(d < AS_OF for d in dates)
        assert p["needs"] == screening.needs(fid)
        assert [s["service_id"] for s in p["services"]] == list(screening.services(fid).service_id)
        assert members.loc[[fid], "role"].eq("child").any()
    assert math.isclose(
        next(iter(payloads.values()))["base_rate"], screening.scores["score"].mean()
    )


# ---- the review queue ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def queue(tmp_path_factory) -> ReviewQueue:
    q = ReviewQueue(f"sqlite:///{tmp_path_factory.mktemp('queue') / 'review.db'}")
    yield q
    q.close()


def test_every_flag_enters_the_queue_once(screening, queue):
    first = queue.enqueue(screening, "run-a")
    again = queue.enqueue(screening, "run-a")
    n_flags = int(screening.scores["flagged"].sum())
    assert first.created and not again.created
    assert first.n_flags == again.n_flags == n_flags == len(queue.items(run_id="run-a"))
    assert n_flags == int((screening.scores["tier"] == "priority").sum())


def test_disputed_record_is_excluded(screener, screening, records, queue):
    queue.enqueue(screening, "run-a")
    window = records.events[
        (records.events["event_date"] < pd.Timestamp(AS_OF))
        & records.events["family_id"].isin(screening.flagged_ids)
    ]
    event = window.sort_values("event_date").iloc[-1]
    fid, district = event["family_id"], screening.payload(event["family_id"])["district"]
    queue.add_user("vera", "correct horse battery", "specialist", [district])
    queue.dispute(event["event_id"], "vera", "the record belongs to another family", family_id=fid)
    again = screener.screen(records, AS_OF, disputed_from=queue)
    assert event["event_id"] in again.excluded_events
    without = records.replace(
        events=records.events[records.events["event_id"] != event["event_id"]]
    )
    expected = build_features(without, AS_OF)
    pd.testing.assert_frame_equal(again.features, expected)
    assert not again.features.loc[fid].equals(screening.features.loc[fid])
    timeline = again.payload(fid)["timeline"]
    assert event["event_id"] not in {t["event_id"] for t in timeline}
    assert event["event_id"] in {t["event_id"] for t in screening.payload(fid)["timeline"]}
    same = screener.screen(records, AS_OF, exclude_events=[event["event_id"]])
    pd.testing.assert_frame_equal(same.scores, again.scores)


def test_exclude_events_must_be_a_collection(screener, records):
    with pytest.raises(ScreeningError, match="not the string 'e1'"):
        screener.screen(records, AS_OF, exclude_events="e1")


# ---- loading -------------------------------------------------------------------------------


def test_save_and_load_round_trip(model, screening, records, tmp_path):
    model.save(tmp_path / "plain")
    loaded = Screener.load(tmp_path / "plain")
    pd.testing.assert_frame_equal(loaded.screen(records, AS_OF).scores, screening.scores)
    model.save(tmp_path / "mlflow" / "artifacts" / "risk_model")
    nested = Screener.load(str(tmp_path / "mlflow"))
    assert nested.model.features == model.features


def test_load_errors_name_what_is_wrong(model, tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        Screener.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"empty: not a model directory"):
        Screener.load(tmp_path / "empty")
    model.save(tmp_path / "odd")
    meta = json.loads((tmp_path / "odd" / "model.json").read_text("utf-8"))
    meta["features"][3] = "school_absence_days_ever"
    typical = list(meta["reference"].items())
    meta["reference"] = dict(typical)
    del meta["reference"][typical[3][0]]
    meta["reference"]["school_absence_days_ever"] = typical[3][1]
    (tmp_path / "odd" / "model.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ModelError, match="registry does not have: school_absence_days_ever"):
        Screener.load(tmp_path / "odd")
    meta["features"][3] = "low_income"
    meta["reference"]["low_income"] = meta["reference"].pop("school_absence_days_ever")
    (tmp_path / "odd" / "model.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ModelError, match="context feature.*never model input: low_income"):
        Screener.load(tmp_path / "odd")
    meta["features"] = list(model.features)[:-1]
    meta["reference"] = {f: model.reference[f] for f in meta["features"]}
    (tmp_path / "odd" / "model.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ModelError, match=r"booster takes \d+ inputs"):
        Screener.load(tmp_path / "odd")
    meta["features"] = list(model.features)
    meta["reference"] = {**model.reference, model.features[0]: float("nan")}
    (tmp_path / "odd" / "model.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(
        ModelError, match=f"reference family's value is not a number for: {model.features[0]}"
    ):
        Screener.load(tmp_path / "odd")


def test_load_from_the_mlflow_registry(model, tmp_path):
    import mlflow

    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        model.save(tmp_path / "model")
        # A fresh store: the experiment another test made active does not exist here.
        mlflow.set_experiment("screening-test")
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(tmp_path / "model"), "risk_model")
        from_run = Screener.load(f"runs:/{run.info.run_id}/risk_model")
        assert from_run.model.features == model.features
        client = mlflow.MlflowClient()
        client.create_registered_model("family-distress")
        for _ in range(2):
            client.create_model_version(
                "family-distress", f"{run.info.artifact_uri}/risk_model", run.info.run_id
            )
        client.set_registered_model_alias("family-distress", "champion", "2")
        champion = Screener.load("models:/family-distress@champion")
        assert (champion.model.name, champion.model.version) == ("family-distress", "2")
        assert Screener.load("models:/family-distress/1").model.version == "1"
        with pytest.raises(ModelError, match=r"@challenger.*versions 1, 2 and aliases @champion"):
            Screener.load("models:/family-distress@challenger")
        with pytest.raises(ModelError, match="registered models: family-distress"):
            Screener.load("models:/other-model@champion")
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])


def test_risk_score_command_writes_scores_and_fills_the_queue_once(model, records, tmp_path):
    from typer.testing import CliRunner

    from family_risk.cli import app
    from risk.regions import load_region

    # The command screens with the region pack's capacity, not the model definition's.
    region = load_region()
    screening = Screener(model, region=region).screen(records, AS_OF)

    model.save(tmp_path / "model")
    store = f"sqlite:///{tmp_path / 'review.db'}"
    args = ["score", "--data", str(SAMPLE), "--as-of", AS_OF, "--model", str(tmp_path / "model"),
            "--out", str(tmp_path / "out" / "scores.parquet"), "--store", store]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "capacity: region pack 'novgorod': 25 per district (velikiy_novgorod 80)" in first.output
    n_flags = len(screening.flagged_ids)
    assert re.search(rf"{n_flags} flags enqueued for run \S+ \(already present: 0\)", first.output)
    assert re.search(rf"total\s+{len(screening.scores)}\s+{n_flags}\s", first.output)
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    pd.testing.assert_frame_equal(scores, screening.scores, check_dtype=False)
    explained = pd.read_parquet(tmp_path / "out" / "scores.explanations.parquet")
    assert set(explained["family_id"]) == set(screening.flagged_ids)
    second = CliRunner().invoke(app, args)
    assert f"(already present: {n_flags})" in second.output
    with ReviewQueue(store) as queue:
        assert len(queue.runs()) == 1 and len(queue.items()) == n_flags
    missing = CliRunner().invoke(app, [*args[:5], "--model", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "no such model directory" in missing.output
