import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk._profiles import PROFILES
from risk._services import (
    CATEGORIES,
    COLUMNS,
    DOMAINS,
    ELIGIBILITY,
    MATCH_COLUMNS,
    CatalogError,
    ServiceCatalog,
    load_catalog,
)
from tests.paths import REPO

ROOT = REPO
PACKS = ROOT / "risk" / "regions" / "packs"
REGIONS = ("novgorod", "novosibirsk")  # the packs whose catalogues the script writes
ALL_DISTRICTS = [d.code for r in REGIONS for d in PROFILES[r].districts]


def _pack_rows(region: str) -> pd.DataFrame:
    frame = pd.read_csv(PACKS / region / "services.csv", dtype=str, keep_default_na=False)
    frame.insert(1, "region", region)
    return frame


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The Novosibirsk and Novgorod packs' catalogues in one frame (as the script lists them)."""
    return pd.concat([_pack_rows("novosibirsk"), _pack_rows("novgorod")], ignore_index=True)


@pytest.fixture(scope="module")
def catalog(raw: pd.DataFrame) -> ServiceCatalog:
    return ServiceCatalog(raw)


def small() -> ServiceCatalog:
    """Five services in Novgorod with known domains, eligibility and districts."""
    rows = [
        ("a1", "material", "any", "*"),
        ("a2", "material;safety", "low_income", "shimsky"),
        ("a3", "health_disability", "disabled_child;young_child", "*"),
        ("a4", "safety", "any", "velikiy_novgorod"),
        ("a5", "parenting_relations", "any", "shimsky;demyansky"),
    ]
    frame = pd.DataFrame(
        {
            "service_id": [r[0] for r in rows],
            "region": "novgorod",
            "category": "difficult_situation",
            "name_ru": "Услуга",
            "name_en": "Service",
            "organisation_ru": "Центр",
            "organisation_en": "Centre",
            "domains": [r[1] for r in rows],
            "eligibility": [r[2] for r in rows],
            "districts": [r[3] for r in rows],
        }
    )
    return ServiceCatalog(frame)


# The catalog and its shape.


def test_default_catalog_is_the_default_region_packs() -> None:
    default = load_catalog()
    assert set(default.services["region"]) == {"novgorod"}
    assert default.district_codes == {d.code for d in PROFILES["novgorod"].districts}
    by_name = load_catalog(region="novosibirsk")
    assert set(by_name.services["region"]) == {"novosibirsk"}
    with pytest.raises(CatalogError, match=r"^unknown district 'shimsky'; districts are "):
        by_name.for_district("shimsky")


def test_the_script_regenerates_the_committed_catalog() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_services", ROOT / "data" / "synthetic" / "make_services.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.build_rows()
    for region in ("novgorod", "novosibirsk"):
        committed = (PACKS / region / "services.csv").read_text(encoding="utf-8")
        assert module.render(rows, region) == committed


def test_columns_and_file_order(catalog: ServiceCatalog, raw: pd.DataFrame) -> None:
    assert list(raw.columns) == list(COLUMNS)
    assert list(catalog.services.columns) == list(COLUMNS)
    assert list(catalog.services["service_id"]) == list(raw["service_id"])


@pytest.mark.parametrize(
    ("category", "n_services", "n_organisations"),
    [("disabled_children", 52, 22), ("difficult_situation", 16, None), ("low_income", 15, 15)],
)
def test_novosibirsk_matches_the_seed_figures(
    catalog: ServiceCatalog, category: str, n_services: int, n_organisations: int | None
) -> None:
    s = catalog.services
    part = s[(s["region"] == "novosibirsk") & (s["category"] == category)]
    assert len(part) == n_services
    if n_organisations is not None:
        assert part["organisation_ru"].nunique() == n_organisations
        assert part["organisation_en"].nunique() == n_organisations


@pytest.mark.parametrize("region", REGIONS)
def test_every_category_is_offered_in_every_region(catalog: ServiceCatalog, region: str) -> None:
    s = catalog.services
    assert set(s.loc[s["region"] == region, "category"]) == set(CATEGORIES)


def test_novgorod_catalog_is_smaller(catalog: ServiceCatalog) -> None:
    counts = catalog.services["region"].value_counts()
    assert 0 < counts["novgorod"] < counts["novosibirsk"]


def test_ids_are_stable_codes(catalog: ServiceCatalog) -> None:
    ids = catalog.services["service_id"]
    assert ids.str.fullmatch(r"(nsk|nvg)-[a-z]{3}-\d{3}").all()
    prefix = {"novosibirsk": "nsk-", "novgorod": "nvg-"}
    assert all(
        i.startswith(prefix[r]) for i, r in zip(ids, catalog.services["region"], strict=True)
    )


@pytest.mark.parametrize("district", ALL_DISTRICTS)
def test_every_district_has_a_service_in_every_domain(
    catalog: ServiceCatalog, district: str
) -> None:
    here = catalog.for_district(district)
    offered = {d for domains in here["domains"] for d in domains}
    assert offered == set(DOMAINS)
    assert any(e == ("any",) for e in here["eligibility"])


@pytest.mark.parametrize("name", REGIONS)
def test_rural_districts_get_fewer_services(catalog: ServiceCatalog, name: str) -> None:
    profile = PROFILES[name]
    counts = {d.code: len(catalog.for_district(d.code)) for d in profile.districts}
    biggest = max(profile.districts, key=lambda d: d.share).code
    assert counts[biggest] == max(counts.values())
    assert min(counts.values()) < counts[biggest]
    region = catalog.services[catalog.services["region"] == name]
    assert (region["districts"].map(len) < len(profile.districts)).any()


def test_repr_counts_regions(catalog: ServiceCatalog) -> None:
    n = catalog.services["region"].value_counts()
    expected = f"novgorod {n['novgorod']}, novosibirsk {n['novosibirsk']}"
    assert repr(load_catalog()) == f"ServiceCatalog({n['novgorod']} services: novgorod 45)"
    assert repr(catalog) == f"ServiceCatalog({len(catalog)} services: {expected})"


# Validation: one defect per copy, the exact message.


def _set(frame: pd.DataFrame, ids: list[str], column: str, value: str) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out["service_id"].isin(ids), column] = value
    return out


DEFECTS = {
    "missing_columns": (
        lambda f: f.drop(columns=["districts", "region"]),
        "services.csv: missing columns ['region', 'districts']",
    ),
    "duplicate_id": (
        lambda f: _set(f, ["nsk-lin-004"], "service_id", "nsk-lin-003"),
        "services.csv: column service_id: 2 rows have duplicate ids ['nsk-lin-003'] "
        "(service_id nsk-lin-003, nsk-lin-003)",
    ),
    "unknown_domain": (
        lambda f: _set(f, ["nsk-lin-003", "nsk-lin-007"], "domains", "material;housin"),
        "services.csv: column domains: 2 rows have unknown codes ['housin'] "
        "(service_id nsk-lin-003, nsk-lin-007)",
    ),
    "unknown_eligibility": (
        lambda f: _set(f, ["nvg-dis-002"], "eligibility", "disabled"),
        "services.csv: column eligibility: 1 row has unknown codes ['disabled'] "
        "(service_id nvg-dis-002)",
    ),
    "district_of_another_region": (
        lambda f: _set(f, ["nvg-lin-001"], "districts", "shimsky;tatarsky"),
        "services.csv: column districts: 1 row has districts unknown in their region "
        "['tatarsky'] (service_id nvg-lin-001)",
    ),
    "unknown_region": (
        lambda f: _set(f, ["nsk-reh-001"], "region", "omsk"),
        "services.csv: column region: 1 row has unknown codes ['omsk'] (service_id nsk-reh-001)",
    ),
    "unknown_category": (
        lambda f: _set(f, ["nsk-reh-001"], "category", "rehab"),
        "services.csv: column category: 1 row has unknown codes ['rehab'] (service_id nsk-reh-001)",
    ),
    "empty_name": (
        lambda f: _set(f, ["nsk-tee-001"], "name_en", " "),
        "services.csv: column name_en: 1 row has an empty value (service_id nsk-tee-001)",
    ),
    "empty_organisation": (
        lambda f: _set(f, ["nsk-tee-001"], "organisation_ru", ""),
        "services.csv: column organisation_ru: 1 row has an empty value (service_id nsk-tee-001)",
    ),
    "empty_id": (
        lambda f: _set(f, ["nsk-dis-002"], "service_id", ""),
        "services.csv: column service_id: 1 row has an empty value (service_id row 1)",
    ),
    "no_domains": (
        lambda f: _set(f, ["nsk-hou-001"], "domains", " ; "),
        "services.csv: column domains: 1 row has no codes (service_id nsk-hou-001)",
    ),
    "many_rows": (
        lambda f: f.assign(region=np.where(f["category"] == "low_income", "tomsk", f["region"])),
        "services.csv: column region: 23 rows have unknown codes ['tomsk'] "
        "(service_id nsk-lin-001, nsk-lin-002, nsk-lin-003, nsk-lin-004, nsk-lin-005, … 18 more)",
    ),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_defect_is_rejected_with_a_message_naming_it(
    raw: pd.DataFrame, tmp_path: Path, defect: str
) -> None:
    spoil, message = DEFECTS[defect]
    path = tmp_path / "services.csv"
    spoil(raw).to_csv(path, index=False)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^nope\.csv: no such file .*nope\.csv$"):
        load_catalog(tmp_path / "nope.csv")


def test_validation_does_not_modify_its_input(raw: pd.DataFrame) -> None:
    before = raw.copy()
    ServiceCatalog(raw)
    pd.testing.assert_frame_equal(raw, before)


def test_sequences_and_strings_load_alike(catalog: ServiceCatalog, raw: pd.DataFrame) -> None:
    as_lists = raw.assign(
        domains=raw["domains"].str.split(";"), eligibility=raw["eligibility"].str.split(";")
    )
    pd.testing.assert_frame_equal(ServiceCatalog(as_lists).services, catalog.services)


def test_star_expands_to_the_regions_districts(catalog: ServiceCatalog, raw: pd.DataFrame) -> None:
    star = raw.index[raw["districts"] == "*"]
    assert len(star) > 0
    for i in star:
        region = PROFILES[str(raw.at[i, "region"])]
        assert catalog.services.at[i, "districts"] == tuple(d.code for d in region.districts)


# Matching.


def test_unknown_district_is_named(catalog: ServiceCatalog) -> None:
    with pytest.raises(CatalogError, match=r"^unknown district 'atlantis'; districts are "):
        catalog.for_district("atlantis")
    with pytest.raises(CatalogError, match=r"^unknown district 'atlantis'"):
        catalog.match("atlantis", attributes={}, domain_weights={})


def test_match_keeps_only_services_of_the_district() -> None:
    found = small().match("demyansky", attributes={"low_income": True}, domain_weights={})
    assert list(found["service_id"]) == ["a1", "a5"]


def test_match_keeps_only_services_whose_eligibility_all_holds() -> None:
    cat = small()
    none = cat.match("shimsky", attributes={}, domain_weights={})
    assert list(none["service_id"]) == ["a1", "a5"]
    disabled = cat.match("shimsky", attributes={"disabled_child": True}, domain_weights={})
    assert "a3" not in set(disabled["service_id"])  # also needs a child under 7
    both = cat.match(
        "shimsky",
        attributes={"disabled_child": True, "young_child": True, "low_income": False},
        domain_weights={},
    )
    assert list(both["service_id"]) == ["a1", "a3", "a5"]


def test_match_orders_by_relevance_then_id_and_keeps_zero_relevance_last() -> None:
    found = small().match(
        "shimsky",
        attributes={"low_income": True},
        domain_weights={"safety": 0.5, "parenting_relations": 0.5, "health_disability": 2.0},
    )
    assert list(found.columns) == list(MATCH_COLUMNS)
    assert list(found["service_id"]) == ["a2", "a5", "a1"]
    assert list(found["relevance"]) == [0.5, 0.5, 0.0]
    assert found.loc[0, "domains"] == ("material", "safety")
    assert found.loc[0, "eligibility"] == ("low_income",)


def test_relevance_sums_the_weights_of_the_services_domains() -> None:
    found = small().match(
        "shimsky", attributes={"low_income": True}, domain_weights={"material": 1.0, "safety": 2.0}
    )
    assert dict(zip(found["service_id"], found["relevance"], strict=True)) == {
        "a2": 3.0,
        "a1": 1.0,
        "a5": 0.0,
    }


def test_limit(catalog: ServiceCatalog) -> None:
    everything = catalog.match("novosibirsk_city", attributes={}, domain_weights={"safety": 1})
    top = catalog.match("novosibirsk_city", attributes={}, domain_weights={"safety": 1}, limit=3)
    pd.testing.assert_frame_equal(top, everything.head(3))
    assert catalog.match("shimsky", attributes={}, domain_weights={}, limit=0).empty


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"attributes": {"disabled": True}},
            r"^attributes: unknown eligibility codes \['disabled'\]",
        ),
        ({"domain_weights": {"housing": 1.0}}, r"^domain_weights: unknown domains \['housing'\]"),
        (
            {"domain_weights": {"safety": -0.1}},
            r"^domain_weights must be finite and non-negative; got safety=-0.1$",
        ),
        ({"domain_weights": {"safety": math.nan}}, r"non-negative; got safety=nan$"),
        ({"limit": -1}, r"^limit must be non-negative; got -1$"),
    ],
)
def test_match_rejects_bad_requests(
    catalog: ServiceCatalog, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"attributes": {}, "domain_weights": {}} | kwargs
    with pytest.raises(CatalogError, match=message):
        catalog.match("shimsky", **args)  # type: ignore[arg-type]


def test_match_is_deterministic_and_independent_of_row_order(raw: pd.DataFrame) -> None:
    request = {
        "attributes": {"low_income": True, "teenager": True, "disabled_child": True},
        "domain_weights": {"material": 0.3, "child_development": 0.3, "safety": 0.1},
    }
    first = ServiceCatalog(raw).match("tatarsky", **request)  # type: ignore[arg-type]
    again = ServiceCatalog(raw).match("tatarsky", **request)  # type: ignore[arg-type]
    shuffled = raw.sample(frac=1.0, random_state=7).reset_index(drop=True)
    other = ServiceCatalog(shuffled).match("tatarsky", **request)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, other)
    assert first["relevance"].nunique() > 1


CODES = [c for c in ELIGIBILITY if c != "any"]


@settings(max_examples=200, deadline=None)
@given(
    district=st.sampled_from(ALL_DISTRICTS),
    attributes=st.fixed_dictionaries({}, optional={c: st.booleans() for c in CODES}),
    weights=st.fixed_dictionaries(
        {}, optional={d: st.floats(0, 10, allow_nan=False) for d in DOMAINS}
    ),
)
def test_every_match_is_available_and_eligible_and_none_is_missed(
    catalog: ServiceCatalog,
    district: str,
    attributes: dict[str, bool],
    weights: dict[str, float],
) -> None:
    found = catalog.match(district, attributes=attributes, domain_weights=weights)
    here = catalog.for_district(district)
    holds = {"any"} | {c for c, v in attributes.items() if v}
    expected = {
        s for s, e in zip(here["service_id"], here["eligibility"], strict=True) if set(e) <= holds
    }
    assert set(found["service_id"]) == expected
    assert found["service_id"].is_unique
    for domains, relevance in zip(found["domains"], found["relevance"], strict=True):
        assert relevance == pytest.approx(sum(weights.get(d, 0.0) for d in domains))
    keys = list(zip(-found["relevance"], found["service_id"], strict=True))
    assert keys == sorted(keys)
