from __future__ import annotations

import math

import pytest

from features import (
    DOMAIN_NAMES,
    DOMAINS,
    EVENT_TYPES,
    FEATURES,
    SOURCES,
    FeatureSpec,
    context_features,
    risk_features,
)
from features._registry import UNIT_NAMES


@pytest.mark.parametrize("spec", list(FEATURES.values()), ids=list(FEATURES))
def test_every_entry_is_complete(spec: FeatureSpec) -> None:
    assert isinstance(spec, FeatureSpec)
    assert spec.domain in DOMAINS
    assert spec.role in ("risk", "context")
    assert spec.unit in UNIT_NAMES
    assert spec.dtype in ("int64", "float64")
    assert spec.source is None or spec.source in SOURCES
    assert math.isfinite(spec.fill)
    for text in (spec.description_ru, spec.description_en):
        assert text.strip() == text and len(text) >= 10
    # The Russian description is in Cyrillic, the English one is not.
    assert any("а" <= ch <= "я" for ch in spec.description_ru.lower())
    assert not any("а" <= ch <= "я" for ch in spec.description_en.lower())
    assert spec.name.isidentifier() and spec.name == spec.name.lower()


def test_mapping_keys_are_names_and_immutable() -> None:
    assert all(name == spec.name for name, spec in FEATURES.items())
    with pytest.raises(TypeError):
        FEATURES["x"] = FEATURES["n_children"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        FEATURES["n_children"].role = "context"  # type: ignore[misc]


def test_domain_names_cover_domains() -> None:
    assert set(DOMAIN_NAMES) == set(DOMAINS) and len(DOMAINS) == 5
    assert all(ru and en for ru, en in DOMAIN_NAMES.values())


def test_roles_partition_the_registry() -> None:
    assert set(risk_features()).isdisjoint(context_features())
    assert set(risk_features()) | set(context_features()) == set(FEATURES)
    assert list(risk_features()) == [n for n in FEATURES if n in set(risk_features())]


def test_disability_low_income_and_coverage_are_never_risk() -> None:
    for name in FEATURES:
        if "disab" in name or "low_income" in name or name.startswith("has_"):
            assert FEATURES[name].role == "context", name
    assert {"low_income", "disabled_child", "disabled_parent"} <= set(context_features())
    assert {f"has_{s}_records" for s in SOURCES} <= set(context_features())


def test_required_signals_exist() -> None:
    for event_type in EVENT_TYPES:
        if event_type == "low_income_status":
            continue
        for suffix in ("n_90d", "n_365d", "n_1095d", "days_since", "trend"):
            assert f"{event_type}_{suffix}" in FEATURES
    for name in (
        "school_absence_days_90d",
        "utility_debt_roubles_latest",
        "n_children",
        "youngest_child_age_years",
        "single_parent",
        "large_family",
        "disabled_child",
        "months_since_registration",
    ):
        assert name in FEATURES
    assert not any("ever" in name.split("_") for name in FEATURES)


def test_fill_values_are_documented_per_kind() -> None:
    for name, spec in FEATURES.items():
        expected = 1096.0 if name.endswith("_days_since") else 0.0
        assert spec.fill == expected, name


def test_specialist_wording_example() -> None:
    spec = FEATURES["school_absence_days_90d"]
    assert spec.description_ru.startswith("Дни пропусков школы")
    assert spec.description_en.startswith("School days missed")
    assert spec.description_en.endswith("in the last 90 days")
