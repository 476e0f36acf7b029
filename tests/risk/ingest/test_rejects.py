"""Rows that cannot be taken go to rejects.csv with their line; the reject rate decides the run."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import RecordsError, load_records
from risk.ingest import RejectRateError, ingest

MAPPING = """
[extracts.fam]
table = "families"
format = "csv"
path = "families.csv"
[extracts.fam.columns]
family_id = "id"
district = "district"
settlement = "settlement"
registered_on = "registered"

[extracts.people]
table = "members"
format = "csv"
path = "members.csv"
[extracts.people.columns]
member_id = "id"
family_id = "family"
role = "role"
birth_date = "born"
sex = "sex"
disability = "disabled"
[extracts.people.values.role]
"мать" = "mother"
"ребёнок" = "child"

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
member_id = "ИД ребёнка"
event_date = "Дата"
event_type = "Код события"
value = "Дней"
[extracts.school.codes]
"ПРОП" = "school_absence"
"НЕУСП" = "academic_failure"
"""

EVENTS = """ИД семьи;ИД ребёнка;Дата;Код события;Дней
f1;m2;01.02.2024;ПРОП;3
f1;m2;31.02.2024;ПРОП;3
f1;m2;01.03.2024;ХХХ;3
f9;m2;01.03.2024;ПРОП;3
f2;m4;01.03.2024;ПРОП;12,5
f2;m4;01.03.2024;ХХХ;
f2;m4;01.03.2024;ПРОП;abc
f2;m2;02.03.2024;НЕУСП;
"""

MEMBERS = """id,family,role,born,sex,disabled
m1,f1,мать,1990-01-01,F,нет
m2,f1,ребёнок,2015-05-05,M,ДА
m3,f2,мать,1991-02-02,F,0
m4,f2,ребёнок,2016-06-06,F,true
m5,f7,ребёнок,2016-06-06,F,1
"""


def _extracts(tmp_path: Path, events: str = EVENTS) -> Path:
    (tmp_path / "families.csv").write_text(
        "id,district,settlement,registered\nf1,a,urban,2020-01-01\nf2,b,rural,2020-02-01\n",
        encoding="utf-8",
    )
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    (tmp_path / "school").mkdir(exist_ok=True)
    (tmp_path / "school" / "2024.csv").write_text(events, encoding="cp1251")
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def _rejects(report: Path) -> list[dict[str, str]]:
    with (report / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_rejects_carry_extract_file_line_column_value_and_reason(tmp_path: Path) -> None:
    mapping = _extracts(tmp_path)
    result = ingest(mapping, tmp_path / "out", max_reject_rate=0.6)
    rows = _rejects(result.report_dir)
    assert rows == [
        {"extract": "people", "file": "members.csv", "line": "6", "column": "family_id",
         "value": "f7", "reason": "unknown family"},
        {"extract": "school", "file": "school/2024.csv", "line": "3", "column": "event_date",
         "value": "31.02.2024", "reason": "unparsable date"},
        {"extract": "school", "file": "school/2024.csv", "line": "4", "column": "event_type",
         "value": "ХХХ", "reason": "unmapped code"},
        {"extract": "school", "file": "school/2024.csv", "line": "5", "column": "family_id",
         "value": "f9", "reason": "unknown family"},
        {"extract": "school", "file": "school/2024.csv", "line": "7", "column": "event_type",
         "value": "ХХХ", "reason": "unmapped code"},
        {"extract": "school", "file": "school/2024.csv", "line": "8", "column": "value",
         "value": "abc", "reason": "not a number"},
        {"extract": "school", "file": "school/2024.csv", "line": "9", "column": "member_id",
         "value": "m2", "reason": "member of another family"},
    ]  # fmt: skip
    assert result.summary["unmapped_codes"] == [
        {"extract": "school", "column": "event_type", "value": "ХХХ", "rows": 2}
    ]
    assert result.summary["rejected"] == 7
    assert result.summary["extracts"]["school"]["taken"] == 2


def test_taken_rows_are_converted(tmp_path: Path) -> None:
    ingest(_extracts(tmp_path), tmp_path / "out", max_reject_rate=0.6)
    recs = load_records(tmp_path / "out")
    assert recs.members.set_index("member_id")["disability"].to_dict() == {
        "m1": False, "m2": True, "m3": False, "m4": True,
    }  # fmt: skip
    assert recs.members.set_index("member_id")["role"].to_dict()["m2"] == "child"
    ev = recs.events.sort_values("event_date", ignore_index=True)
    np.testing.assert_array_equal(ev["value"].to_numpy(), [3.0, 12.5])
    assert list(ev["event_date"]) == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    assert recs.extraction_date == pd.Timestamp("2024-03-01")
    assert ev["event_id"].str.fullmatch(r"school:[0-9a-f]{8}:[26]").all()


def test_generated_event_ids_are_stable_across_runs(tmp_path: Path) -> None:
    mapping = _extracts(tmp_path)
    ingest(mapping, tmp_path / "one", max_reject_rate=0.6)
    ingest(mapping, tmp_path / "two", max_reject_rate=0.6)
    one = load_records(tmp_path / "one").events["event_id"]
    two = load_records(tmp_path / "two").events["event_id"]
    assert list(one) == list(two)
    assert one.is_unique


def test_reject_rate_above_the_limit_fails_and_writes_no_records(tmp_path: Path) -> None:
    mapping = _extracts(tmp_path)
    out = tmp_path / "out"
    message = (
        "7 of 15 rows rejected (46.67%), more than --max-reject-rate 0: "
        "unmapped code in school.event_type: 2; "
    )
    with pytest.raises(RejectRateError, match=f"^{re.escape(message)}"):
        ingest(mapping, out)
    assert not out.exists()
    assert len(_rejects(tmp_path / "out-report")) == 7


def test_reject_rate_failure_leaves_an_existing_folder_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ingest(_extracts(tmp_path), out, max_reject_rate=0.6)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RejectRateError):
        ingest(_extracts(tmp_path), out, max_reject_rate=0.1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_rows_after_the_extraction_date_are_rejected(tmp_path: Path) -> None:
    result = ingest(
        _extracts(tmp_path), tmp_path / "out", extraction_date="2024-02-15", max_reject_rate=1
    )
    late = [r for r in _rejects(result.report_dir) if r["reason"] == "after the extraction date"]
    assert [(r["line"], r["value"]) for r in late] == [
        ("5", "2024-03-01 00:00:00"),
        ("6", "2024-03-01 00:00:00"),
        ("9", "2024-03-02 00:00:00"),
    ]


def test_duplicate_ids_stop_the_run_with_the_records_error(tmp_path: Path) -> None:
    mapping = _extracts(tmp_path)
    (tmp_path / "families.csv").write_text(
        "id,district,settlement,registered\nf1,a,urban,2020-01-01\nf1,b,rural,2020-02-01\n",
        encoding="utf-8",
    )
    with pytest.raises(
        RecordsError, match=re.escape("families.family_id: 2 rows share an id [duplicate_id]")
    ):
        ingest(mapping, tmp_path / "out", max_reject_rate=1)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "out-report").exists()


def test_a_bad_extraction_date_is_refused_before_reading(tmp_path: Path) -> None:
    from features import InputError

    with pytest.raises(InputError, match="^extraction date '31.12.2025' is not a date YYYY-MM-DD$"):
        ingest(_extracts(tmp_path), tmp_path / "out", extraction_date="31.12.2025")
    assert not (tmp_path / "out-report").exists()
