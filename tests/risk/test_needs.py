"""Needs, eligibility and service matching glue (pure)."""

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import DOMAINS
from risk import load_catalog
from risk._needs import (
    CONTEXT_PULL,
    NEED_THRESHOLD,
    children_ages,
    domain_pulls,
    eligibility,
    match_services,
    needs,
    services_payload,
)

by_domains = st.fixed_dictionaries({d: st.floats(-3, 3, allow_nan=False) for d in DOMAINS})
contexts = st.fixed_dictionaries(
    {f: st.sampled_from([0.0, 1.0]) for f in ("low_income", "disabled_child", "disabled_parent")}
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@settings(max_examples=200, deadline=None)
@given(by_domains, contexts)
def test_needs_are_the_domains_that_pull(by_domain, context):
    found = needs(by_domain, context)
    pulls = domain_pulls(by_domain, context)
    assert all(p > 0 for p in pulls.values())
    for d in DOMAINS:
        if by_domain[d] > NEED_THRESHOLD:
            assert d in found
    if context["low_income"]:
        assert "material" in found
    if context["disabled_child"] or context["disabled_parent"]:
        assert "health_disability" in found
    strength = [pulls.get(d, 0.0) for d in found]
    assert strength == sorted(strength, reverse=True)
    assert set(found) <= set(pulls)


def test_context_pull_counts_once_per_domain():
    one = domain_pulls({}, {"disabled_child": 1})
    both = domain_pulls({}, {"disabled_child": 1, "disabled_parent": 1})
    assert one == both == {"health_disability": CONTEXT_PULL}
    assert domain_pulls({"safety": -1.0}, {}) == {}


def test_small_pulls_are_no_need():
    assert needs({"safety": NEED_THRESHOLD}, {}) == []
    assert needs({"safety": 0.3, "material": 0.6}, {}) == ["material", "safety"]


def test_children_ages_whole_years_and_leap_day():
    members = pd.DataFrame(
        {
            "family_id": ["a", "a", "a", "b", "b", "c"],
            "role": ["child", "child", "mother", "child", "child", "child"],
            "birth_date": pd.to_datetime(
                [
                    "2008-02-29",
                    "2024-03-01",
                    "1990-01-01",
                    "2006-03-01",
                    "2023-03-02",
                    "2030-01-01",
                ]  # fmt: skip
            ).as_unit("s"),
        }
    )
    ages = children_ages(members, pd.Timestamp("2024-03-01"))
    # 2008-02-29 is 16 on 2024-03-01 (leap year: anniversary 29 Feb passed); born on the as-of
    # date is not yet born (strictly before); 2006-03-01 turns 18 that day; 2023-03-02 is 0.
    assert ages.to_dict("list") == {"family_id": ["a", "b"], "age": [16, 0]}
    ages = children_ages(members, pd.Timestamp("2025-02-28"))
    assert ages.loc[ages["family_id"] == "a", "age"].tolist() == [0, 16]


@pytest.mark.parametrize(
    ("ages", "teenager", "young_child"),
    [([], False, False), ([11], False, False), ([12], True, False), ([17], True, False),
     ([6], False, True), ([7], False, False), ([3, 14], True, True)],
)  # fmt: skip
def test_age_eligibility(ages, teenager, young_child):
    got = eligibility({}, ages)
    assert (got["teenager"], got["young_child"]) == (teenager, young_child)


def test_eligibility_from_context():
    got = eligibility({"low_income": 1, "disabled_child": 0, "large_family": 1}, [])
    assert got["low_income"] and got["large_family"] and not got["disabled_child"]
    assert not got["single_parent"]


NOVOSIBIRSK = load_catalog(region="novosibirsk")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["shimsky", "velikiy_novgorod", "tatarsky", "demyansky"]),
    st.fixed_dictionaries({c: st.booleans() for c in ("low_income", "disabled_child",
                                                       "teenager", "young_child")}),
    by_domains,
)  # fmt: skip
def test_matching_is_available_eligible_and_ordered(district, attributes, by_domain):
    catalog = NOVOSIBIRSK if district == "tatarsky" else load_catalog()
    rows = catalog.services.set_index("service_id")
    pulls = domain_pulls(by_domain, {})
    found = match_services(catalog, district, attributes=attributes, pulls=pulls)
    assert len(found) <= 10
    for sid in found["service_id"]:
        assert district in rows.loc[sid, "districts"]
        assert all(c == "any" or attributes.get(c, False) for c in rows.loc[sid, "eligibility"])
    rel = found["relevance"].tolist()
    assert rel == sorted(rel, reverse=True)
    payload = services_payload(found)
    json.dumps(payload)
    assert [p["service_id"] for p in payload] == list(found["service_id"])


def test_unknown_district_has_no_services(catalog):
    found = match_services(catalog, "atlantis", attributes={}, pulls={"material": 1.0})
    assert len(found) == 0 and services_payload(found) == []
