"""A region's own record types flow from its pack to the records, features, model and explanations.

A population is generated with the Chelyabinsk pack's vocabulary (``mfc_visit``,
``utility_disconnection_notice``); a small model trained on it knows those types from its
``model.json`` alone.
"""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from features import (
    RecordsError,
    Vocabulary,
    build_features,
    build_snapshots,
    load_records,
    risk_features,
)
from risk import (
    Calibration,
    Capacity,
    RiskModel,
    Screener,
    VocabularyMismatch,
    load_catalog,
    model_vocabulary,
    region_vocabulary,
    vocabulary_metadata,
)
from risk._loading import load_model
from risk.synth import generate, write_population

NEW_TYPES = ("mfc_visit", "utility_disconnection_notice")
TRAIN_DATES = ["2022-01-01", "2022-07-01", "2023-01-01", "2023-07-01"]
AS_OF = "2024-07-01"


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return region_vocabulary("chelyabinsk")


@pytest.fixture(scope="module")
def population(vocabulary):
    return generate(1500, seed=5, vocabulary=vocabulary)


@pytest.fixture(scope="module")
def records(population):
    return population[0]


@pytest.fixture(scope="module")
def model(population, vocabulary) -> RiskModel:
    """LightGBM on snapshots with the pack's features, Platt-scaled; it records its vocabulary."""
    records, truth = population
    snaps = build_snapshots(records, TRAIN_DATES, vocabulary=vocabulary)
    t = truth.snapshots.assign(as_of=pd.to_datetime(truth.snapshots["as_of"]).astype("M8[s]"))
    label = t.set_index(["as_of", "family_id"])["label"].reindex(snaps.index).fillna(0)
    names = tuple(
        f for f in risk_features(vocabulary) if not f.startswith("disabled") and f != "low_income"
    )
    X = snaps.loc[:, list(names)].to_numpy(dtype=np.float64)
    params = {
        "objective": "binary", "max_depth": 3, "num_leaves": 7, "learning_rate": 0.1,
        "min_data_in_leaf": 20, "verbose": -1, "seed": 0, "deterministic": True,
        "num_threads": 1,
    }  # fmt: skip
    booster = lgb.train(params, lgb.Dataset(X, label.to_numpy(dtype=np.float64)), 30)
    margin = booster.predict(X, raw_score=True).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf).fit(margin, label.to_numpy())
    return RiskModel(
        booster,
        names,
        Calibration(float(fit.intercept_[0]), float(fit.coef_[0, 0])),
        capacity=Capacity(default=10, min_score=0.0),
        metadata={"vocabulary": vocabulary_metadata(vocabulary)},
    )


def _recent_new(records) -> pd.DataFrame:
    ev = records.events
    lo = pd.Timestamp(AS_OF) - pd.Timedelta(days=90)
    return ev[ev["event_type"].isin(NEW_TYPES) & (ev["event_date"] >= lo)]


def test_the_pack_vocabulary_declares_the_new_types(vocabulary):
    assert tuple(e.name for e in vocabulary.extra) == NEW_TYPES
    assert {e.domain for e in vocabulary.extra} == {"material"}
    assert all(e.synthetic_rate and e.synthetic_rate > 0 for e in vocabulary.extra)


def test_a_population_generated_with_the_vocabulary_has_records_of_the_new_types(
    records, vocabulary
):
    counts = records.events["event_type"].value_counts()
    for name in NEW_TYPES:
        assert counts.get(name, 0) > 0, name
    mine = records.events[records.events["event_type"].isin(NEW_TYPES)]
    assert mine["member_id"].isna().all()  # both are family-level records
    assert set(mine["source"]) == {"social_protection", "housing"}
    records.validate(vocabulary)


def test_without_a_vocabulary_the_generator_is_unchanged():
    plain, _ = generate(300, seed=2)
    built_in, _ = generate(300, seed=2, vocabulary=Vocabulary.builtin())
    pd.testing.assert_frame_equal(plain.events, built_in.events)
    assert not plain.events["event_type"].isin(NEW_TYPES).any()


def test_new_records_rise_with_distress(population):
    """Families in distress at some point have more records of the new types per family."""
    records, truth = population
    distressed = set(truth.snapshots.loc[truth.snapshots["distress"] == 1, "family_id"])
    mine = records.events[records.events["event_type"] == "mfc_visit"]
    per_family = (
        mine.groupby("family_id").size().reindex(records.families["family_id"], fill_value=0)
    )
    in_distress = per_family.index.isin(list(distressed))
    assert per_family[in_distress].mean() > per_family[~in_distress].mean()


def test_records_with_a_new_type_loaded_without_the_vocabulary_fail_naming_it(population, tmp_path):
    write_population(*population, tmp_path / "pop")
    with pytest.raises(RecordsError, match="mfc_visit"):
        load_records(tmp_path / "pop")
    loaded = load_records(tmp_path / "pop", vocabulary=region_vocabulary("chelyabinsk"))
    assert loaded.events["event_type"].isin(NEW_TYPES).any()


def test_the_model_has_features_of_the_new_types_and_carries_its_vocabulary(model, tmp_path):
    for name in NEW_TYPES:
        assert f"{name}_n_90d" in model.features
    saved = RiskModel.load(model.save(tmp_path / "m"))
    meta = json.loads((tmp_path / "m" / "model.json").read_text("utf-8"))
    assert [e["name"] for e in meta["metadata"]["vocabulary"]] == list(NEW_TYPES)
    assert model_vocabulary(saved).names[-2:] == NEW_TYPES
    # From the model alone: the default vocabulary of a screen is the model's.
    Screener(saved, catalog=load_catalog())


@pytest.fixture(scope="module")
def screening(model, records, vocabulary):
    return Screener(model, catalog=load_catalog()).screen(records, AS_OF, vocabulary=vocabulary)


def test_the_explanation_names_the_new_type_in_both_languages(screening, records, vocabulary):
    mfc = vocabulary.event_types["mfc_visit"]
    fid = str(_recent_new(records).query("event_type == 'mfc_visit'")["family_id"].iloc[0])
    e = screening.explain(fid)
    row = e.contributions.set_index("feature").loc["mfc_visit_n_90d"]
    assert row["value"] >= 1
    assert row["domain"] == "material"
    ru = e.to_text("ru", top=len(e.contributions), min_abs=0.0)
    en = e.to_text("en", top=len(e.contributions), min_abs=0.0)
    assert row["description_ru"] in ru and row["description_en"] in en
    assert mfc.description_en.lower() in row["description_en"].lower()
    assert mfc.description_ru.lower()[:20] in row["description_ru"].lower()


def test_the_timeline_describes_records_of_the_new_types(screening, records, vocabulary):
    fid = str(_recent_new(records)["family_id"].iloc[0])
    timeline = screening.payload(fid)["timeline"]
    new = [t for t in timeline if t["event_type"] in NEW_TYPES]
    assert new
    for t in new:
        et = vocabulary.event_types[t["event_type"]]
        assert (t["description_ru"], t["description_en"]) == (et.description_ru, et.description_en)


def test_screening_with_a_vocabulary_lacking_the_models_types_names_them(model, records):
    screener = Screener(model, catalog=load_catalog())
    with pytest.raises(VocabularyMismatch, match="mfc_visit, utility_disconnection_notice"):
        screener.screen(records, AS_OF, vocabulary=Vocabulary.builtin())


def test_the_model_scores_the_same_as_the_features_built_with_its_vocabulary(
    model, records, screening, vocabulary
):
    X = build_features(records, AS_OF, vocabulary=vocabulary)
    np.testing.assert_allclose(
        screening.scores.set_index("family_id")["score"].to_numpy(),
        model.predict_proba(X.loc[screening.scores["family_id"]]),
    )


def test_the_pyfunc_round_trip_keeps_the_vocabulary(model, records, vocabulary, tmp_path):
    import mlflow

    from risk._pyfunc import save_risk_model

    target = save_risk_model(model, tmp_path / "pyfunc")
    X = build_features(records, AS_OF, vocabulary=vocabulary)
    served = mlflow.pyfunc.load_model(str(target)).predict(X.loc[:, list(model.features)])
    np.testing.assert_allclose(served["score"].to_numpy(), model.predict_proba(X))
    loaded = load_model(target)
    assert model_vocabulary(loaded).names == vocabulary.names
    again = Screener(loaded, catalog=load_catalog()).screen(records, AS_OF, vocabulary=vocabulary)
    fid = str(_recent_new(records)["family_id"].iloc[0])
    assert "mfc_visit_n_90d" in set(again.explain(fid).contributions["feature"])


def _example_script():
    """The worked example's extract writer (``docs/examples/chelyabinsk_extracts.py``)."""
    import importlib.util

    from tests.paths import DOCS

    spec = importlib.util.spec_from_file_location(
        "chelyabinsk_extracts", DOCS / "examples" / "chelyabinsk_extracts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_agency_extracts_with_the_new_types_ingest_back_with_the_pack(
    population, vocabulary, tmp_path
):
    from risk.ingest import MappingError, ingest

    write_population(*population, tmp_path / "pop")
    mapping = _example_script().write_extracts(tmp_path / "pop", tmp_path / "extracts")
    text = (tmp_path / "extracts" / "events" / "social_protection" / "2024.csv").read_bytes()
    assert "МФЦ-ОКНО".encode("cp1251") in text
    with pytest.raises(MappingError, match="unknown event type 'utility_disconnection_notice'"):
        ingest(mapping, tmp_path / "refused")
    ingest(mapping, tmp_path / "records", event_types=vocabulary.event_types)
    got = load_records(tmp_path / "records", vocabulary=vocabulary).events
    want = population[0].events
    key = ["event_id"]
    pd.testing.assert_frame_equal(
        got.sort_values(key, ignore_index=True),
        want.sort_values(key, ignore_index=True),
        check_dtype=False,
    )
