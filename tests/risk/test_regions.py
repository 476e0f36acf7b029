"""Region packs: the shipped packs, every problem the check reports, and the CLI."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import risk
from family_risk.cli import app
from features import DOMAINS, SOURCES
from risk.regions import (
    DEFAULT_REGION,
    RegionError,
    RegionProblem,
    check_districts,
    check_region,
    load_region,
    shipped_regions,
)
from risk.synth import PROFILES
from tests.paths import REPO

ROOT = REPO

REGION = """\
[region]
code = "testland"
name_ru = "Тестовая область"
name_en = "Test region"
timezone = "Europe/Moscow"

[capacity]
default = 10
min_score = 0.1

[[districts]]
code = "north"
name_ru = "Северный район"
name_en = "North district"
capacity = 30
share = 0.6
urban_share = 1.0

[[districts]]
code = "south"
name_ru = "Южный район"
name_en = "South district"
share = 0.4
urban_share = 0.5
"""

SYNTHETIC = """
[synthetic]
families = 1000
children_per_family = 1.5
low_income_child_share = 0.2
disabled_child_share = 0.02
large_family_child_share = 0.2
outcome_rate_12m = 0.03
sop_rate_12m = 0.004
"""

SERVICES = """\
service_id,category,name_ru,name_en,organisation_ru,organisation_en,domains,eligibility,districts
t-001,low_income,Соцконтракт,Social contract,Центр,Centre,material,low_income,north
t-002,parenting_school,Школа,School,Центр,Centre,parenting_relations;child_development,any,*
"""

VOCABULARY = """\
[[event_types]]
name = "heating_arrears"
source = "housing"
unit = "roubles"
member_role = ""
domain = "material"
description_ru = "Долг за отопление"
description_en = "Heating arrears"
synthetic_rate = 0.05

[[event_types]]
name = "sports_club"
source = "education"
unit = "count"
member_role = "child"
domain = "child_development"
description_ru = "Ребёнок записан в спортивную секцию"
description_en = "Child joined a sports club"
"""


def write_pack(
    folder: Path,
    region: str | None = REGION,
    services: str | None = SERVICES,
    vocabulary: str | None = None,
) -> Path:
    """Write a pack from strings; None leaves the file out."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("region.toml", region),
        ("services.csv", services),
        ("vocabulary.toml", vocabulary),
    ):
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# --- the shipped packs --------------------------------------------------------------------


def test_shipped_packs_are_valid():
    assert shipped_regions() == ("chelyabinsk", "novgorod", "novosibirsk")
    assert DEFAULT_REGION == "novgorod"
    for name in shipped_regions():
        assert check_region(name) == []
        pack = load_region(name)
        assert pack.code == name
        assert pack.synthetic is not None
        # Every district has a service in every need domain and one open to any family.
        for district in pack.district_codes:
            here = pack.services[[district in ds for ds in pack.services["districts"]]]
            assert {d for ds in here["domains"] for d in ds} == set(DOMAINS), district
            assert ("any",) in set(here["eligibility"]), district


@pytest.mark.parametrize("name", ["novgorod", "novosibirsk"])
def test_pack_is_todays_profile(name):
    pack, profile = load_region(name), PROFILES[name]
    assert [(d.code, d.name_ru, d.name_en, d.share, d.urban_share) for d in pack.districts] == [
        (d.code, d.name_ru, d.name_en, d.share, d.urban_share) for d in profile.districts
    ]
    synthetic = pack.synthetic
    assert synthetic is not None
    assert synthetic.families == profile.full_size
    for key in (
        "children_per_family",
        "low_income_child_share",
        "disabled_child_share",
        "large_family_child_share",
        "outcome_rate_12m",
        "sop_rate_12m",
    ):
        assert getattr(synthetic, key) == getattr(profile, key), key


@pytest.mark.parametrize("name", ["novgorod", "novosibirsk"])
def test_pack_capacity_is_todays_model_definition(name):
    with (ROOT / "models" / "family_distress.toml").open("rb") as file:
        capacity = tomllib.load(file)["capacity"]
    pack = load_region(name)
    assert pack.capacity.default == capacity["default"]
    assert pack.capacity.min_score == capacity["min_score"]
    own = {d: c for d, c in capacity["per_district"].items() if d in pack.district_codes}
    assert dict(pack.capacity.per_district) == own
    assert isinstance(pack.capacity, risk.Capacity)


@pytest.mark.parametrize("name", ["novgorod", "novosibirsk"])
def test_pack_services_are_todays_catalogue(name):
    today = risk.load_catalog(region=name).services
    pack = load_region(name)
    pd.testing.assert_frame_equal(pack.services, today)
    # The pack's rows make the same catalogue through the public constructor.
    pd.testing.assert_frame_equal(risk.ServiceCatalog(pack.services).services, today)


def test_chelyabinsk_pack_has_the_four_pilot_institutions():
    pack = load_region("chelyabinsk")
    assert pack.timezone == "Asia/Yekaterinburg"
    pilots = {"chelyabinsk_city", "magnitogorsk", "verkhny_ufaley", "korkinsky"}
    assert pilots <= set(pack.district_codes)
    mfc = pack.services[pack.services["organisation_en"].str.contains("family MFC")]
    assert {d for ds in mfc["districts"] for d in ds} >= pilots
    assert mfc["organisation_en"].nunique() == 4


def test_pack_helpers():
    pack = load_region("novgorod")
    assert pack.district_codes[0] == "velikiy_novgorod"
    assert pack.district("shimsky").name_en == "Shimsky district"
    assert pack.district_name("shimsky") == "Шимский район"
    assert pack.district_name("shimsky", "en") == "Shimsky district"
    assert pack.capacity_for("velikiy_novgorod") == 80
    assert pack.capacity_for("shimsky") == 25
    with pytest.raises(RegionError, match="region pack 'novgorod' has no district 'oz'; "):
        pack.capacity_for("oz")


def test_a_valid_folder_pack_loads(tmp_path):
    folder = write_pack(tmp_path / "t", region=REGION + SYNTHETIC, vocabulary=VOCABULARY)
    assert check_region(folder) == []
    pack = load_region(folder)
    assert pack.path == folder
    assert pack.vocabulary_path == folder / "vocabulary.toml"
    assert pack.vocabulary_types == ("heating_arrears", "sports_club")
    assert pack.capacity == risk.Capacity(default=10, per_district={"north": 30}, min_score=0.1)
    assert list(pack.services["districts"]) == [("north",), ("north", "south")]
    assert set(pack.services["region"]) == {"testland"}
    assert load_region(write_pack(tmp_path / "u")).vocabulary_path is None


def test_a_name_that_is_neither_folder_nor_shipped_pack():
    with pytest.raises(
        RegionError,
        match=r"^region pack 'oz' is not a folder, nor a shipped pack "
        r"\(chelyabinsk, novgorod, novosibirsk\)$",
    ):
        load_region("oz")


# --- every problem, with its exact message ------------------------------------------------

CASES = {
    "unreadable TOML": (
        "region",
        'code = "testland"',
        'code "testland"',
        [
            "region.toml: not valid TOML: Expected '=' after a key in a key/value pair "
            "(at line 2, column 6)"
        ],
    ),
    "missing required key": (
        "region",
        'timezone = "Europe/Moscow"\n',
        "",
        ["region.toml: [region].timezone: required key is missing"],
    ),
    "missing capacity": (
        "region",
        "[capacity]\ndefault = 10\nmin_score = 0.1\n",
        "",
        ["region.toml: [capacity]: required table is missing"],
    ),
    "bad code pattern": (
        "region",
        'code = "testland"',
        'code = "Test-land"',
        [
            "region.toml: [region].code: 'Test-land' is not a code: use lowercase latin "
            "letters, digits and _"
        ],
    ),
    "duplicate district": (
        "region",
        'code = "south"',
        'code = "north"',
        ["region.toml: [[districts]][2].code: duplicate district 'north' (also [[districts]][1])"],
    ),
    "capacity not whole": (
        "region",
        "capacity = 30",
        "capacity = 12.5",
        ["region.toml: [[districts]][1].capacity: must be a whole number >= 0; got 12.5"],
    ),
    "capacity as text": (
        "region",
        "capacity = 30",
        'capacity = "30"',
        ["region.toml: [[districts]][1].capacity: must be a whole number >= 0; got '30'"],
    ),
    "capacity negative": (
        "region",
        "default = 10",
        "default = -3",
        ["region.toml: [capacity].default: must be a whole number >= 0; got -3"],
    ),
    "min_score outside [0, 1]": (
        "region",
        "min_score = 0.1",
        "min_score = 1.5",
        ["region.toml: [capacity].min_score: must be a number in [0, 1]; got 1.5"],
    ),
    "timezone that does not exist": (
        "region",
        "Europe/Moscow",
        "Europe/Novgorod",
        ["region.toml: [region].timezone: unknown time zone 'Europe/Novgorod'"],
    ),
    "shares do not sum to 1": (
        "region",
        "share = 0.4",
        "share = 0.04",
        ["region.toml: [[districts]].share: shares sum to 0.64, not 1"],
    ),
    "urban_share outside [0, 1]": (
        "region",
        "urban_share = 0.5",
        "urban_share = 1.5",
        ["region.toml: [[districts]][2].urban_share: must be a number in [0, 1]; got 1.5"],
    ),
    "district name missing in English": (
        "region",
        'name_en = "South district"\n',
        "",
        ["region.toml: [[districts]][2].name_en: required key is missing"],
    ),
    "region name empty in Russian": (
        "region",
        'name_ru = "Тестовая область"',
        'name_ru = " "',
        ["region.toml: [region].name_ru: must be non-empty text; got ' '"],
    ),
    "unknown key": (
        "region",
        "capacity = 30",
        "capacty = 30",
        [
            "region.toml: [[districts]][1].capacty: unknown key; keys are code, name_ru, "
            "name_en, capacity, share, urban_share"
        ],
    ),
    "unknown table": (
        "region",
        "[capacity]",
        "[capacty]",
        [
            "region.toml: capacty: unknown key; keys are region, capacity, districts, "
            "synthetic, review, rollout",
            "region.toml: [capacity]: required table is missing",
        ],
    ),
    "rollout names an unknown district or one twice": (
        "region",
        "[capacity]",
        '[rollout]\nwaves = [["north", "nowhere"], ["north"]]\n\n[capacity]',
        [
            "region.toml: [rollout].waves: unknown district 'nowhere'",
            "region.toml: [rollout].waves: district 'north' is in more than one wave",
        ],
    ),
    "no districts": (
        "region",
        REGION[REGION.index("[[districts]]") :],
        "",
        [
            "region.toml: [[districts]]: required key is missing: the pack has no districts",
        ],
    ),
    "duplicate service id": (
        "services",
        "t-002",
        "t-001",
        ["services.csv: line 3: duplicate service_id 't-001' (first on line 2)"],
    ),
    "service for a district the pack lacks": (
        "services",
        ",north\n",
        ",north;east\n",
        [
            "services.csv: line 2: districts the pack lacks ['east'] (see [[districts]] in "
            "region.toml)"
        ],
    ),
    "unknown domain": (
        "services",
        "material,low_income",
        "housin,low_income",
        ["services.csv: line 2: unknown domains ['housin']; domains are " + ", ".join(DOMAINS)],
    ),
    "unknown eligibility code": (
        "services",
        "low_income,north",
        "pensioner,north",
        [
            "services.csv: line 2: unknown eligibility codes ['pensioner']; eligibility codes "
            "are any, disabled_child, low_income, large_family, single_parent, teenager, "
            "young_child"
        ],
    ),
    "unknown category": (
        "services",
        "t-001,low_income",
        "t-001,pension",
        [
            "services.csv: line 2: unknown category 'pension'; categories are "
            "disabled_children, difficult_situation, low_income, parenting_school, "
            "family_rehabilitation, temporary_housing, teen_leisure"
        ],
    ),
    "service name missing in English": (
        "services",
        "Social contract",
        "",
        ["services.csv: line 2: name_en is empty"],
    ),
    "empty districts": (
        "services",
        ",north\n",
        ",\n",
        ["services.csv: line 2: districts is empty"],
    ),
    "missing column": (
        "services",
        ",eligibility,districts\n",
        ",eligibility\n",
        ["services.csv: line 1: missing columns ['districts']"],
    ),
    "region column": (
        "services",
        "service_id,",
        "region,service_id,",
        [
            "services.csv: line 1: column region is not allowed: the pack's code is the region",
            "services.csv: line 2: 9 fields; the header has 10",
            "services.csv: line 3: 9 fields; the header has 10",
        ],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_problem_has_its_message(tmp_path, case):
    file, old, new, expected = CASES[case]
    texts = {"region": REGION, "services": SERVICES}
    texts[file] = edit(texts[file], old, new)
    folder = write_pack(tmp_path / "pack", **texts)
    assert [str(p) for p in check_region(folder)] == expected


VOCABULARY_CASES = {
    "unreadable": (
        'name = "heating_arrears"',
        'name = "heating_arrears',
        "not valid TOML: Illegal character '\\n' (at line 2, column 24)",
    ),
    "clashes a built-in type": (
        'name = "heating_arrears"',
        'name = "school_absence"',
        "[[event_types]][1].name: 'school_absence' is a built-in record type",
    ),
    "repeated name": (
        'name = "sports_club"',
        'name = "heating_arrears"',
        "[[event_types]][2].name: duplicate name 'heating_arrears' (also [[event_types]][1])",
    ),
    "bad name": (
        'name = "sports_club"',
        'name = "Sports club"',
        "[[event_types]][2].name: 'Sports club' is not a code: use lowercase latin letters, "
        "digits and _",
    ),
    "unknown source": (
        'source = "housing"',
        'source = "school"',
        "[[event_types]][1].source: must be one of "
        + ", ".join(repr(s) for s in SOURCES)
        + "; got 'school'",
    ),
    "unknown unit": (
        'unit = "roubles"',
        'unit = "euros"',
        "[[event_types]][1].unit: must be one of 'count', 'days', 'roubles'; got 'euros'",
    ),
    "unknown member role": (
        'member_role = "child"',
        'member_role = "mother"',
        "[[event_types]][2].member_role: must be one of 'parent', 'child', ''; got 'mother'",
    ),
    "unknown domain": (
        'domain = "material"',
        'domain = "money"',
        "[[event_types]][1].domain: must be one of "
        + ", ".join(repr(d) for d in DOMAINS)
        + "; got 'money'",
    ),
    "description missing": (
        'description_en = "Heating arrears"\n',
        "",
        "[[event_types]][1].description_en: required key is missing",
    ),
    "negative synthetic rate": (
        "synthetic_rate = 0.05",
        "synthetic_rate = -0.1",
        "[[event_types]][1].synthetic_rate: must be a number >= 0; got -0.1",
    ),
    "unknown key": (
        "synthetic_rate = 0.05",
        "rate = 0.05",
        "[[event_types]][1].rate: unknown key; keys are name, source, unit, member_role, "
        "domain, description_ru, description_en, synthetic_rate",
    ),
}


@pytest.mark.parametrize("case", VOCABULARY_CASES, ids=list(VOCABULARY_CASES))
def test_each_vocabulary_problem_has_its_message(tmp_path, case):
    old, new, expected = VOCABULARY_CASES[case]
    folder = write_pack(tmp_path / "pack", vocabulary=edit(VOCABULARY, old, new))
    assert [str(p) for p in check_region(folder)] == [f"vocabulary.toml: {expected}"]


def test_missing_files(tmp_path):
    folder = write_pack(tmp_path / "pack", region=None, services=None)
    assert [str(p) for p in check_region(folder)] == [
        f"region.toml: no such file in {folder}",
        f"services.csv: no such file in {folder}",
    ]


def test_synthetic_targets_need_every_share(tmp_path):
    region = edit(REGION + SYNTHETIC, "share = 0.4\nurban_share = 0.5\n", "")
    region = edit(region, "families = 1000", "families = 0")
    region = edit(region, "sop_rate_12m = 0.004\n", "")
    folder = write_pack(tmp_path / "pack", region=region)
    assert [str(p) for p in check_region(folder)] == [
        "region.toml: [synthetic].families: must be a whole number >= 1; got 0",
        "region.toml: [synthetic].sop_rate_12m: required key is missing",
        "region.toml: [[districts]][2].share: required when [synthetic] is given",
        "region.toml: [[districts]][2].urban_share: required when [synthetic] is given",
    ]


def test_shares_are_checked_only_when_all_are_given(tmp_path):
    folder = write_pack(tmp_path / "pack", region=edit(REGION, "share = 0.4\n", ""))
    assert check_region(folder) == []


def test_every_problem_is_reported_at_once(tmp_path):
    region = edit(REGION, "Europe/Moscow", "Mars/Olympus")
    region = edit(region, "capacity = 30", "capacity = 2.5")
    services = edit(SERVICES, "t-002", "t-001")
    services = edit(services, ",north\n", ",west\n")
    folder = write_pack(tmp_path / "pack", region=region, services=services)
    problems = check_region(folder)
    assert problems == [
        RegionProblem("region.toml", "[region].timezone", "unknown time zone 'Mars/Olympus'"),
        RegionProblem(
            "region.toml",
            "[[districts]][1].capacity",
            "must be a whole number >= 0; got 2.5",
        ),
        RegionProblem(
            "services.csv",
            "line 2",
            "districts the pack lacks ['west'] (see [[districts]] in region.toml)",
        ),
        RegionProblem("services.csv", "line 3", "duplicate service_id 't-001' (first on line 2)"),
    ]
    with pytest.raises(RegionError) as raised:
        load_region(folder)
    assert str(raised.value) == (
        f"region pack '{folder}' ({folder}) has 4 problems:" + "".join(f"\n  {p}" for p in problems)
    )


def test_csv_lines_count_quoted_line_breaks(tmp_path):
    services = edit(SERVICES, "Соцконтракт", '"Соц\nконтракт"')
    services += "t-003,pension,Школа,School,Центр,Centre,material,any,*\n"
    folder = write_pack(tmp_path / "pack", services=services)
    assert [str(p) for p in check_region(folder)] == [
        "services.csv: line 5: unknown category 'pension'; categories are disabled_children, "
        "difficult_situation, low_income, parenting_school, family_rehabilitation, "
        "temporary_housing, teen_leisure"
    ]


# --- records against a pack ---------------------------------------------------------------


def test_check_districts_names_each_lacking_district_and_its_families():
    pack = load_region("novgorod")
    families = pd.Series(["foo"] * 120 + ["shimsky"] * 7 + ["bar"] * 3, name="district")
    with pytest.raises(RegionError) as raised:
        check_districts(pack, families)
    assert str(raised.value) == (
        "records name 2 districts the region pack 'novgorod' lacks: "
        "'foo' (120 families), 'bar' (3 families)"
    )
    assert raised.value.exit_code == 2
    check_districts(pack, ["shimsky", "velikiy_novgorod"])
    check_districts(pack, [])


def test_check_districts_counts_beyond_ten():
    pack = load_region("novgorod")
    with pytest.raises(
        RegionError, match=r"^records name 12 districts .*'d09' \(1 family\), … 2 more$"
    ):
        check_districts(pack, [f"d{i:02d}" for i in range(12)])


# --- the command ----------------------------------------------------------------------------


def test_region_check_command(tmp_path):
    runner = CliRunner()
    good = runner.invoke(app, ["region", "check", "novgorod"])
    assert good.exit_code == 0, good.output
    assert good.stdout.splitlines() == [
        "novgorod: Novgorod region (Новгородская область), time zone Europe/Moscow",
        "  14 districts, 45 services, 0 new record types",
        "  capacity 25 families per district (velikiy_novgorod 80), minimum score 0.05",
    ]
    folder = write_pack(
        tmp_path / "pack",
        region=edit(REGION, "Europe/Moscow", "Europe/Novgorod"),
        services=edit(SERVICES, "material,low_income", "housin,low_income"),
    )
    bad = runner.invoke(app, ["region", "check", str(folder)])
    assert bad.exit_code == 2
    assert bad.stdout.splitlines() == [str(p) for p in check_region(folder)]
    assert len(bad.stdout.splitlines()) == 2
    assert f"error: region pack '{folder}' has 2 problems" in bad.stderr
    missing = runner.invoke(app, ["region", "check", "oz"])
    assert missing.exit_code == 2
    assert "region pack 'oz' is not a folder" in missing.stderr


def test_region_list_command():
    listed = CliRunner().invoke(app, ["region", "list"])
    assert listed.exit_code == 0
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [
        ["chelyabinsk", "Chelyabinsk region"],
        ["novgorod", "Novgorod region"],
        ["novosibirsk", "Novosibirsk region"],
    ]
