"""Every mapping error names the file, the extract and the key, with an exact message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from risk.ingest import MappingError, ingest, load_mapping

FAMILIES = """
[extracts.fam]
table = "families"
format = "csv"
path = "families.csv"
[extracts.fam.columns]
family_id = "id"
district = "district"
settlement = "settlement"
registered_on = "registered"
"""

EVENTS = """
[extracts.school]
table = "events"
source = "education"
format = "csv"
path = "school/*.csv"
encoding = "cp1251"
delimiter = ";"
date_format = "%d.%m.%Y"
[extracts.school.columns]
family_id = "ИД семьи"
event_date = "Дата"
event_type = "Код события"
value = "Дней"
[extracts.school.codes]
"ПРОП" = "school_absence"
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "families.csv").write_text(
        "id,district,settlement,registered\nf1,a,urban,2020-01-01\n", encoding="utf-8"
    )
    (tmp_path / "school").mkdir(exist_ok=True)
    (tmp_path / "school" / "a.csv").write_text(
        "ИД семьи;Дата;Код события;Дней\nf1;01.02.2024;ПРОП;3\n", encoding="cp1251"
    )
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _raises(path: Path, message: str) -> None:
    with pytest.raises(MappingError, match=f"^{re.escape(message)}$"):
        load_mapping(path)


def test_a_good_mapping_loads(tmp_path: Path) -> None:
    spec = load_mapping(_write(tmp_path, FAMILIES + EVENTS))
    school = spec.for_table("events")[0]
    assert school.source == "education"
    assert school.files == (tmp_path / "school" / "a.csv",)
    assert dict(school.codes) == {"ПРОП": "school_absence"}
    assert school.encoding == "cp1251" and school.delimiter == ";"


def test_missing_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path, FAMILIES + EVENTS.replace('format = "csv"\npath = "school', 'path = "school')
    )
    _raises(path, f"{path}: [extracts.school] missing key 'format'")


def test_unknown_table(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('table = "events"', 'table = "event"'))
    _raises(
        path,
        f"{path}: [extracts.school] table must be one of families, members, events, outcomes; "
        "got 'event'",
    )


def test_unknown_format(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('format = "csv"', 'format = "json"'))
    _raises(
        path, f"{path}: [extracts.school] format must be one of csv, xlsx, parquet, sql; got 'json'"
    )


def test_events_without_source(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('source = "education"\n', ""))
    _raises(
        path,
        f"{path}: [extracts.school] missing key 'source' (the agency of an events extract: one of "
        "social_protection, education, health, police, employment, housing)",
    )


def test_unknown_source(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('"education"', '"school"'))
    _raises(
        path,
        f"{path}: [extracts.school] source must be one of social_protection, education, health, "
        "police, employment, housing; got 'school'",
    )


def test_unknown_record_column(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('value = "Дней"', 'days = "Дней"'))
    _raises(
        path,
        f"{path}: [extracts.school.columns] unknown record column 'days'; events columns are "
        "event_id, family_id, member_id, event_type, event_date, value",
    )


def test_unmapped_required_column(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('event_date = "Дата"\n', ""))
    _raises(path, f"{path}: [extracts.school.columns] record column 'event_date' is not mapped")


def test_code_to_an_unknown_event_type(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('"school_absence"', '"school_absense"'))
    _raises(
        path, f"{path}: [extracts.school.codes] 'ПРОП' maps to unknown event type 'school_absense'"
    )


def test_code_to_an_event_type_of_another_source(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('"school_absence"', '"job_loss"'))
    _raises(
        path,
        f"{path}: [extracts.school.codes] 'ПРОП' maps to 'job_loss', an event type of source "
        "employment, not education",
    )


def test_event_types_are_a_parameter(tmp_path: Path) -> None:
    from features import EVENT_TYPES, EventType

    extra = EventType("school_meals", "education", "count", "child", "Питание", "Meals")
    path = _write(tmp_path, FAMILIES + EVENTS.replace('"school_absence"', '"school_meals"'))
    spec = load_mapping(path, event_types={**EVENT_TYPES, "school_meals": extra})
    assert dict(spec.extracts[1].codes) == {"ПРОП": "school_meals"}


def test_glob_matching_no_file(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace("school/*.csv", "schol/*.csv"))
    _raises(
        path,
        f"{path}: [extracts.school] path 'schol/*.csv' matches no file (relative to {tmp_path})",
    )


def test_unknown_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('"cp1251"', '"cp9999"'))
    _raises(path, f"{path}: [extracts.school] encoding 'cp9999' is not a known encoding")


def test_wrong_encoding_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('encoding = "cp1251"\n', ""))
    message = (
        f"{path}: [extracts.school] school/a.csv: not utf-8 text (key encoding): 'utf-8' codec"
    )
    with pytest.raises(MappingError, match=f"^{re.escape(message)}"):
        ingest(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_column_missing_from_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('value = "Дней"', 'value = "Дни"'))
    with pytest.raises(
        MappingError,
        match="^"
        + re.escape(
            f"{path}: [extracts.school] school/a.csv: no column 'Дни' (key columns.value); "
            "columns are 'ИД семьи', 'Дата', 'Код события', 'Дней'"
        )
        + "$",
    ):
        ingest(path, tmp_path / "out")


def test_unknown_key(tmp_path: Path) -> None:
    path = _write(tmp_path, FAMILIES + EVENTS.replace('path = "school', 'pth = "school'))
    _raises(
        path,
        f"{path}: [extracts.school] unknown key 'pth'; keys are chunksize, codes, columns, "
        "date_format, delimiter, encoding, format, path, query, sheet, source, table, url, values",
    )


def test_value_mapped_to_an_unknown_code(tmp_path: Path) -> None:
    text = FAMILIES + '[extracts.fam.values.settlement]\n"город" = "town"\n' + EVENTS
    path = _write(tmp_path, text)
    _raises(
        path,
        f"{path}: [extracts.fam.values.settlement] 'город' maps to unknown settlement 'town'; "
        "allowed: urban, rural",
    )


def test_sql_extract_needs_url_and_query(tmp_path: Path) -> None:
    sql = '[extracts.db]\ntable = "outcomes"\nformat = "sql"\nurl = "sqlite://"\n'
    path = _write(tmp_path, FAMILIES + sql)
    _raises(path, f"{path}: [extracts.db] missing key 'query'")


def test_not_toml_and_no_extracts(tmp_path: Path) -> None:
    path = _write(tmp_path, "[extracts.fam\n")
    with pytest.raises(MappingError, match=f"^{re.escape(str(path))}: not valid TOML: "):
        load_mapping(path)
    path = _write(tmp_path, "")
    _raises(path, f"{path}: no [extracts.NAME] tables")
    path = _write(tmp_path, EVENTS)
    _raises(path, f'{path}: no extract has table = "families"; every record needs one')
