from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import (
    EVENT_TYPES,
    FEATURES,
    EventType,
    FeatureError,
    Records,
    RecordsError,
    Vocabulary,
    VocabularyError,
    build_features,
    build_snapshots,
    context_features,
    feature_specs,
    load_records,
    load_vocabulary,
    render_features_markdown,
    render_records_markdown,
    risk_features,
)

ENTRY = {
    "name": '"debt_collection"',
    "source": '"housing"',
    "unit": '"roubles"',
    "member_role": '""',
    "domain": '"material"',
    "description_ru": '"Взыскание долга судебными приставами"',
    "description_en": '"Debt collection by bailiffs"',
}

VOCAB = """
[[event_types]]
name = "debt_collection"
source = "housing"
unit = "roubles"
member_role = ""
domain = "material"
description_ru = "Взыскание долга судебными приставами"
description_en = "Debt collection by bailiffs"
synthetic_rate = 0.2

[[event_types]]
name = "sports_section_dropout"
source = "education"
unit = "days"
member_role = "child"
domain = "child_development"
description_ru = "Пропуски занятий спортивной секции"
description_en = "Sports section sessions missed"

[[event_types]]
name = "shelter_stay"
source = "social_protection"
unit = "count"
member_role = "parent"
domain = "safety"
description_ru = "Размещение в кризисном центре"
description_en = "Stay at a crisis shelter"
"""


def _entry(**changes: str | None) -> str:
    keys = {**ENTRY, **changes}
    return "[[event_types]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)


@pytest.fixture()
def vocab(tmp_path: Path) -> Vocabulary:
    file = tmp_path / "vocabulary.toml"
    file.write_text(VOCAB, encoding="utf-8")
    return load_vocabulary(file)


# --------------------------------------------------------------------------- parsing


def test_load_vocabulary_reads_every_key(vocab: Vocabulary) -> None:
    assert [e.name for e in vocab.extra] == [
        "debt_collection",
        "sports_section_dropout",
        "shelter_stay",
    ]
    debt, dropout, shelter = vocab.extra
    assert debt == EventType(
        "debt_collection",
        "housing",
        "roubles",
        None,
        "Взыскание долга судебными приставами",
        "Debt collection by bailiffs",
        domain="material",
        synthetic_rate=0.2,
    )
    assert dropout.member_role == "child" and dropout.synthetic_rate is None
    assert shelter.member_role == "parent" and shelter.domain == "safety"
    assert vocab.names == (
        *EVENT_TYPES,
        "debt_collection",
        "sports_section_dropout",
        "shelter_stay",
    )
    assert Vocabulary.builtin().names == tuple(EVENT_TYPES)
    assert Vocabulary.builtin() == Vocabulary()


def test_an_empty_file_is_the_builtin_vocabulary(tmp_path: Path) -> None:
    file = tmp_path / "vocabulary.toml"
    file.write_text("# no types of our own yet\n", encoding="utf-8")
    assert load_vocabulary(file) == Vocabulary.builtin()


ONE = "[[event_types]] entry 1, "
TWO = "[[event_types]] entry 2, "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name = "x"\n',
            "unknown key(s) 'name'; a vocabulary holds only [[event_types]] entries",
        ),
        ('event_types = "x"\n', "event_types must be an array of tables ([[event_types]])"),
        ("event_types = [1, 2]\n", "event_types must be an array of tables ([[event_types]])"),
        (_entry(source=None), ONE + "source: required key missing"),
        (_entry(description_en=None), ONE + "description_en: required key missing"),
        (
            _entry(colour='"red"'),
            ONE + "colour: unknown key; keys are name, source, unit, member_role, domain, "
            "description_ru, description_en, synthetic_rate",
        ),
        (
            _entry(name='"Debt-Collection"'),
            ONE + "name: must be lower-case letters, digits and '_' ([a-z0-9_]+); "
            "got 'Debt-Collection'",
        ),
        (
            _entry(name="3"),
            ONE + "name: must be lower-case letters, digits and '_' ([a-z0-9_]+); got 3",
        ),
        (_entry(name='"school_absence"'), ONE + "name: 'school_absence' is a built-in event type"),
        (
            _entry() + _entry(),
            TWO + "name: 'debt_collection' is already defined by entry 1",
        ),
        (
            _entry(source='"courts"'),
            ONE + "source: must be one of 'social_protection', 'education', 'health', "
            "'police', 'employment', 'housing'; got 'courts'",
        ),
        (
            _entry(unit='"hours"'),
            ONE + "unit: must be one of 'count', 'days', 'roubles'; got 'hours'",
        ),
        (
            _entry(member_role='"mother"'),
            ONE + "member_role: must be one of 'parent', 'child', ''; got 'mother' "
            "('' for a family-level record)",
        ),
        (
            _entry(domain='"housing"'),
            ONE + "domain: must be one of 'material', 'health_disability', "
            "'parenting_relations', 'child_development', 'safety'; got 'housing'",
        ),
        (
            _entry(description_ru='"  "'),
            ONE + "description_ru: must be a non-empty string; got '  '",
        ),
        (_entry(description_en="1"), ONE + "description_en: must be a non-empty string; got 1"),
        (
            _entry(synthetic_rate="-0.5"),
            ONE + "synthetic_rate: must be a number of records per family-year, 0 or more; "
            "got -0.5",
        ),
        (
            _entry(synthetic_rate='"often"'),
            ONE + "synthetic_rate: must be a number of records per family-year, 0 or more; "
            "got 'often'",
        ),
        (
            _entry(synthetic_rate="true"),
            ONE + "synthetic_rate: must be a number of records per family-year, 0 or more; "
            "got True",
        ),
        (
            _entry(synthetic_rate="nan"),
            ONE + "synthetic_rate: must be a number of records per family-year, 0 or more; got nan",
        ),
    ],
)
def test_load_vocabulary_errors_name_file_entry_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "vocabulary.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(file)
    assert str(caught.value) == f"{file}: {message}"
    assert caught.value.path == str(file)


def test_entry_index_and_key_are_attributes(tmp_path: Path) -> None:
    file = tmp_path / "vocabulary.toml"
    file.write_text(_entry(name='"a"') + _entry(name='"b"', unit='"hours"'), encoding="utf-8")
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(file)
    assert (caught.value.index, caught.value.key) == (2, "unit")
    assert caught.value.exit_code == 2
    assert isinstance(caught.value, ValueError)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    missing = tmp_path / "none.toml"
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(missing)
    assert str(caught.value) == f"{missing}: no such file"
    bad = tmp_path / "bad.toml"
    bad.write_text("[[event_types]\nname = 1\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"bad\.toml: not valid TOML: .*line 1"):
        load_vocabulary(bad)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "Взыскание"'.encode("cp1251"))
    with pytest.raises(VocabularyError, match=r"latin\.toml: cannot read: .*utf-8"):
        load_vocabulary(latin)


def test_vocabulary_built_in_code_is_checked_too() -> None:
    good = EventType("a", "housing", "count", None, "А", "A", domain="material")
    with pytest.raises(VocabularyError) as caught:
        Vocabulary((good, good))
    assert str(caught.value) == "Vocabulary: event type 'a': name: defined twice"
    with pytest.raises(VocabularyError) as caught:
        Vocabulary((EventType("b", "housing", "count", None, "Б", "B"),))
    assert str(caught.value) == (
        "Vocabulary: event type 'b': domain: must be one of 'material', 'health_disability', "
        "'parenting_relations', 'child_development', 'safety'; got None"
    )
    with pytest.raises(VocabularyError) as caught:
        Vocabulary((EVENT_TYPES["job_loss"],))
    assert str(caught.value) == (
        "Vocabulary: event type 'job_loss': name: 'job_loss' is a built-in event type"
    )


# --------------------------------------------------------------------------- records


def _day(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[s]")


def _records(events: Sequence[tuple[str, str, str | None, str, str, str, float | None]]) -> Records:
    """Two families with a child each; events (id, family, member, source, type, date, value)."""
    families = pd.DataFrame(
        {
            "family_id": pd.Series(["f1", "f2"], dtype="str"),
            "district": pd.Series(["d1", "d1"], dtype="str"),
            "settlement": pd.Series(["urban", "rural"], dtype="str"),
            "registered_on": _day("2018-01-01", "2018-01-01"),
        }
    )
    members = pd.DataFrame(
        {
            "member_id": pd.Series(["c1", "p1", "c2"], dtype="str"),
            "family_id": pd.Series(["f1", "f1", "f2"], dtype="str"),
            "role": pd.Series(["child", "mother", "child"], dtype="str"),
            "birth_date": _day("2015-05-05", "1990-01-01", "2012-02-02"),
            "sex": pd.Series(["F", "F", "M"], dtype="str"),
            "disability": pd.Series([False, False, False], dtype=bool),
        }
    )
    ev = pd.DataFrame(
        {
            "event_id": pd.Series([e[0] for e in events], dtype="str"),
            "family_id": pd.Series([e[1] for e in events], dtype="str"),
            "member_id": pd.Series([e[2] for e in events], dtype="str"),
            "source": pd.Series([e[3] for e in events], dtype="str"),
            "event_type": pd.Series([e[4] for e in events], dtype="str"),
            "event_date": _day(*[e[5] for e in events]),
            "value": pd.Series([e[6] for e in events], dtype="float64"),
        }
    )
    empty = Records.empty()
    return Records(
        families, members, ev, empty.outcomes, extraction_date=pd.Timestamp("2024-12-31")
    )


T = "2024-03-01"

EVENTS = [
    # debt_collection (roubles, family): ages 10, 100, 400 days before T
    ("e1", "f1", None, "housing", "debt_collection", "2024-02-20", 1500.25),
    ("e2", "f1", None, "housing", "debt_collection", "2023-11-22", 300.0),
    ("e3", "f1", None, "housing", "debt_collection", "2023-01-26", 999.0),
    # sports_section_dropout (days, child): ages 1, 30, 200 days
    ("e4", "f2", "c2", "education", "sports_section_dropout", "2024-02-29", 2.5),
    ("e5", "f2", "c2", "education", "sports_section_dropout", "2024-01-31", 4.0),
    ("e6", "f2", "c2", "education", "sports_section_dropout", "2023-08-14", 7.0),
    # shelter_stay (count, parent): ages 45 and 2000 (outside the lookback)
    ("e7", "f1", "p1", "social_protection", "shelter_stay", "2024-01-16", None),
    ("e8", "f1", "p1", "social_protection", "shelter_stay", "2018-09-09", None),
    # a built-in type alongside
    ("e9", "f2", "c2", "education", "school_absence", "2024-02-01", 3.0),
]


def test_new_types_validate_only_with_the_vocabulary(vocab: Vocabulary) -> None:
    records = _records(EVENTS)
    with pytest.raises(RecordsError) as caught:
        records.validate()
    assert caught.value.rule == "unknown_code"
    assert str(caught.value).startswith(
        "events.event_type: 8 rows have unknown codes "
        "['debt_collection', 'shelter_stay', 'sports_section_dropout']; allowed: "
    )
    assert str(caught.value).endswith("(event_id e1, e2, e3, e4, e5, … 3 more)")
    assert records.validate(vocab) is records
    assert records.validate(vocabulary=vocab) is records


def test_new_types_follow_the_rules_of_their_own_definition(vocab: Vocabulary) -> None:
    wrong_source = [("e1", "f1", None, "police", "debt_collection", "2024-02-20", 1.0)]
    with pytest.raises(RecordsError) as caught:
        _records(wrong_source).validate(vocab)
    assert str(caught.value) == (
        "events.source: 1 row name a source other than their event type's [source_mismatch] "
        "(event_id e1)"
    )
    no_value = [("e1", "f2", "c2", "education", "sports_section_dropout", "2024-02-20", None)]
    with pytest.raises(RecordsError) as caught:
        _records(no_value).validate(vocab)
    assert str(caught.value) == (
        "events.value: 1 row have no value but their type needs one [null_in_required] "
        "(event_id e1)"
    )


def test_load_records_takes_the_vocabulary(tmp_path: Path, vocab: Vocabulary) -> None:
    _records(EVENTS).to_parquet(tmp_path / "recs")
    with pytest.raises(RecordsError, match=r"\[unknown_code\]"):
        load_records(tmp_path / "recs")
    loaded = load_records(tmp_path / "recs", vocabulary=vocab)
    assert loaded.events["event_type"].tolist() == [e[4] for e in EVENTS]


# --------------------------------------------------------------------------- features


def _suffixes(specs: dict, event_type: str) -> set[str]:
    return {n[len(event_type) :] for n in specs if n.startswith(event_type + "_")}


def test_new_types_get_the_signals_of_a_builtin_type_of_their_unit(vocab: Vocabulary) -> None:
    specs = dict(feature_specs(vocab))
    assert _suffixes(specs, "sports_section_dropout") == _suffixes(specs, "school_absence")
    assert _suffixes(specs, "debt_collection") == _suffixes(specs, "material_aid")
    assert _suffixes(specs, "shelter_stay") == _suffixes(specs, "job_loss")
    assert _suffixes(specs, "job_loss") == {
        "_n_90d",
        "_n_365d",
        "_n_1095d",
        "_days_since",
        "_trend",
    }
    for name, spec in specs.items():
        if name in FEATURES:
            assert spec == FEATURES[name]
            continue
        event_type = next(e for e in vocab.extra if name.startswith(e.name + "_"))
        assert spec.role == "risk"
        assert spec.domain == event_type.domain
        assert spec.source == event_type.source
        assert spec.description_en.startswith(event_type.description_en + ": ")
        assert spec.description_ru.startswith(event_type.description_ru + ": ")
        twin = {"days": "school_absence", "roubles": "material_aid", "count": "job_loss"}
        builtin = name.replace(event_type.name, twin[event_type.unit], 1)
        assert (spec.unit, spec.dtype, spec.fill) == (
            FEATURES[builtin].unit,
            FEATURES[builtin].dtype,
            FEATURES[builtin].fill,
        )
    assert specs["debt_collection_roubles_365d"].unit == "roubles"
    assert specs["sports_section_dropout_days_90d"].unit == "days"
    assert specs["shelter_stay_days_since"].fill == FEATURES["job_loss_days_since"].fill
    assert set(risk_features(vocab)) - set(risk_features()) == set(specs) - set(FEATURES)
    assert context_features(vocab) == context_features()
    # Built-in features keep their relative order.
    assert [n for n in specs if n in FEATURES] == list(FEATURES)


def test_feature_specs_default_is_the_builtin_registry() -> None:
    assert feature_specs() is FEATURES
    assert feature_specs(Vocabulary.builtin()) is FEATURES


def test_new_type_features_equal_a_hand_computation(vocab: Vocabulary) -> None:
    records = _records(EVENTS).validate(vocab)
    x = build_features(records, T, vocabulary=vocab)
    assert list(x.columns) == list(feature_specs(vocab))
    assert list(x.index) == ["f1", "f2"]
    expected = {
        # f1: debt collection at ages 10, 100, 400; shelter stay at age 45 (2000 is too old)
        ("f1", "debt_collection_n_90d"): 1,
        ("f1", "debt_collection_n_365d"): 2,
        ("f1", "debt_collection_n_1095d"): 3,
        ("f1", "debt_collection_days_since"): 10,
        # last 90 days: 1; the 270 days before (ages 91..360): 1 -> 1 - 1/3
        ("f1", "debt_collection_trend"): 1 - 1 / 3,
        ("f1", "debt_collection_roubles_365d"): 1800.25,
        ("f1", "shelter_stay_n_90d"): 1,
        ("f1", "shelter_stay_n_1095d"): 1,
        ("f1", "shelter_stay_days_since"): 45,
        ("f1", "shelter_stay_trend"): 1.0,
        ("f1", "sports_section_dropout_n_1095d"): 0,
        ("f1", "sports_section_dropout_days_since"): 1096,
        ("f1", "sports_section_dropout_days_365d"): 0.0,
        ("f1", "has_housing_records"): 1,
        ("f1", "has_social_protection_records"): 1,
        ("f1", "has_education_records"): 0,
        # f2: dropout at ages 1 (2.5 days), 30 (4 days), 200 (7 days)
        ("f2", "sports_section_dropout_n_90d"): 2,
        ("f2", "sports_section_dropout_n_365d"): 3,
        ("f2", "sports_section_dropout_days_since"): 1,
        ("f2", "sports_section_dropout_trend"): 2 - 1 / 3,
        ("f2", "sports_section_dropout_days_90d"): 6.5,
        ("f2", "sports_section_dropout_days_365d"): 13.5,
        ("f2", "debt_collection_n_1095d"): 0,
        ("f2", "debt_collection_roubles_365d"): 0.0,
        ("f2", "debt_collection_days_since"): 1096,
        ("f2", "school_absence_n_90d"): 1,
        ("f2", "school_absence_days_90d"): 3.0,
        ("f2", "has_housing_records"): 0,
        ("f2", "has_education_records"): 1,
    }
    for (family, feature), value in expected.items():
        assert x.loc[family, feature] == pytest.approx(value), (family, feature)


def test_builtin_features_do_not_change_with_a_vocabulary(vocab: Vocabulary) -> None:
    records = _records(EVENTS).validate(vocab)
    extended = build_features(records, T, vocabulary=vocab)
    builtin_only = records.replace(
        events=records.events[records.events["event_type"].isin(list(EVENT_TYPES))]
    ).validate()
    plain = build_features(builtin_only, T)
    assert list(plain.columns) == list(FEATURES)
    # The coverage flags count every record of a source, the new types' included.
    coverage = [n for n in FEATURES if n.startswith("has_")]
    same = [n for n in FEATURES if n not in coverage]
    pd.testing.assert_frame_equal(extended[same], plain[same])
    assert extended.loc["f1", coverage].to_dict() == {
        **plain.loc["f1", coverage].to_dict(),
        "has_housing_records": 1,
        "has_social_protection_records": 1,
    }


def test_builtin_records_with_an_extended_vocabulary(synthetic: Records, vocab: Vocabulary) -> None:
    plain = build_features(synthetic, T)
    extended = build_features(synthetic.validate(vocab), T, vocabulary=vocab)
    pd.testing.assert_frame_equal(extended[list(FEATURES)], plain)
    new = [n for n in extended.columns if n not in FEATURES]
    fills = np.array([feature_specs(vocab)[n].fill for n in new])
    np.testing.assert_array_equal(
        extended[new].to_numpy(), np.broadcast_to(fills, (len(plain), len(new)))
    )


def test_snapshots_with_a_vocabulary_equal_features_at_each_date(vocab: Vocabulary) -> None:
    records = _records(EVENTS).validate(vocab)
    dates = ["2023-12-01", T]
    snaps = build_snapshots(records, dates, vocabulary=vocab)
    assert list(snaps.columns) == list(feature_specs(vocab))
    for date in dates:
        pd.testing.assert_frame_equal(
            pd.DataFrame(snaps.xs(pd.Timestamp(date), level="as_of")),
            build_features(records, date, vocabulary=vocab),
            check_names=False,
        )
    assert list(build_snapshots(records, [], vocabulary=vocab).columns) == list(
        feature_specs(vocab)
    )


def test_builders_refuse_types_outside_their_vocabulary(vocab: Vocabulary) -> None:
    records = _records(EVENTS)
    with pytest.raises(FeatureError, match=r"8 rows have unknown event types"):
        build_features(records, T)


def test_docs_render_a_vocabulary(vocab: Vocabulary) -> None:
    features_md = render_features_markdown(vocab)
    assert "`debt_collection_roubles_365d`" in features_md
    assert "Debt collection by bailiffs: amount in the last 365 days (total)" in features_md
    safety_row = next(line for line in features_md.splitlines() if line.startswith("| `safety`"))
    assert "`shelter_stay`" in safety_row
    assert f"{len(feature_specs(vocab))} features" in features_md
    assert render_features_markdown() == render_features_markdown(Vocabulary.builtin())
    assert "`debt_collection`" not in render_features_markdown()
    records_md = render_records_markdown(vocab)
    assert "| `sports_section_dropout` | `education` | days (дней) | child |" in records_md
    assert "`shelter_stay`" not in render_records_markdown()
