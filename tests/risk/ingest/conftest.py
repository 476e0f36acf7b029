"""Agency extracts written from the committed synthetic sample, the way agencies write them.

Families and members: an xlsx workbook with Russian headers and Russian values (``мать``, ``Ж``,
``город``, ``да``); events: one cp1251 CSV per source and period, ``;``-separated, dates as
``31.12.2024``, agency codes for event types, decimal commas; outcomes: a Parquet file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features import EVENT_TYPES, Records, load_records

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "synthetic" / "sample"
ROLES = {"mother": "мать", "father": "отец", "guardian": "опекун", "child": "ребёнок"}
SEXES = {"F": "Ж", "M": "М"}
SETTLEMENTS = {"urban": "город", "rural": "село"}
EVENT_HEADERS = {
    "event_id": "Номер записи",
    "family_id": "ИД семьи",
    "member_id": "ИД члена семьи",
    "event_date": "Дата",
    "event_type": "Код события",
    "value": "Значение",
}
PERIODS = ((2020, 2022), (2023, 2025))


def agency_code(event_type: str) -> str:
    """A code of the agency's own: upper-case Cyrillic-looking letters and the type's position."""
    return f"К{list(EVENT_TYPES).index(event_type):02d}"


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def decimal_comma(value: float) -> str:
    return "" if pd.isna(value) else repr(float(value)).replace(".", ",")


def write_events_csv(events: pd.DataFrame, path: Path, *, with_ids: bool = True) -> None:
    frame = pd.DataFrame(
        {
            EVENT_HEADERS["event_id"]: events["event_id"],
            EVENT_HEADERS["family_id"]: events["family_id"],
            EVENT_HEADERS["member_id"]: events["member_id"].fillna(""),
            EVENT_HEADERS["event_date"]: events["event_date"].dt.strftime("%d.%m.%Y"),
            EVENT_HEADERS["event_type"]: events["event_type"].map(agency_code),
            EVENT_HEADERS["value"]: events["value"].map(decimal_comma),
        }
    )
    if not with_ids:
        frame = frame.drop(columns=EVENT_HEADERS["event_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep=";", index=False, encoding="cp1251")


def write_registry(records: Records, path: Path) -> None:
    fam = records.families
    mem = records.members
    families = pd.DataFrame(
        {
            "ИД семьи": fam["family_id"],
            "Район": fam["district"],
            "Тип поселения": fam["settlement"].map(SETTLEMENTS),
            "Дата постановки на учёт": fam["registered_on"],
        }
    )
    members = pd.DataFrame(
        {
            "ИД": mem["member_id"],
            "ИД семьи": mem["family_id"],
            "Роль": mem["role"].map(ROLES),
            "Дата рождения": mem["birth_date"].dt.strftime("%d.%m.%Y"),
            "Пол": mem["sex"].map(SEXES),
            "Инвалидность": mem["disability"].map({True: "да", False: "нет"}),
        }
    )
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        families.to_excel(writer, sheet_name="Семьи", index=False)
        members.to_excel(writer, sheet_name="Члены семьи", index=False)


def registry_mapping() -> str:
    values = "\n".join(
        f"[extracts.{table}.values.{column}]\n"
        + "\n".join(f"{toml_str(v)} = {toml_str(k)}" for k, v in mapping.items())
        for table, column, mapping in (
            ("families", "settlement", SETTLEMENTS),
            ("members", "role", ROLES),
            ("members", "sex", SEXES),
        )
    )
    return f"""
[extracts.families]
table = "families"
format = "xlsx"
path = "registry.xlsx"
sheet = "Семьи"
[extracts.families.columns]
family_id = "ИД семьи"
district = "Район"
settlement = "Тип поселения"
registered_on = "Дата постановки на учёт"

[extracts.members]
table = "members"
format = "xlsx"
path = "registry.xlsx"
sheet = "Члены семьи"
date_format = "%d.%m.%Y"
[extracts.members.columns]
member_id = "ИД"
family_id = "ИД семьи"
role = "Роль"
birth_date = "Дата рождения"
sex = "Пол"
disability = "Инвалидность"

{values}
"""


def events_mapping(source: str, *, with_ids: bool = True, path: str | None = None) -> str:
    columns = {k: v for k, v in EVENT_HEADERS.items() if with_ids or k != "event_id"}
    codes = "\n".join(
        f"{toml_str(agency_code(name))} = {toml_str(name)}"
        for name, et in EVENT_TYPES.items()
        if et.source == source
    )
    cols = "\n".join(f"{k} = {toml_str(v)}" for k, v in columns.items())
    return f"""
[extracts.{source}]
table = "events"
source = "{source}"
format = "csv"
path = "{path or f"events/{source}/*.csv"}"
encoding = "cp1251"
delimiter = ";"
date_format = "%d.%m.%Y"
[extracts.{source}.columns]
{cols}
[extracts.{source}.codes]
{codes}
"""


OUTCOMES_MAPPING = """
[extracts.outcomes]
table = "outcomes"
format = "parquet"
path = "outcomes.parquet"
[extracts.outcomes.columns]
family_id = "Семья"
outcome_date = "Дата исхода"
outcome_type = "Исход"
"""


def write_agency_extracts(records: Records, folder: Path) -> Path:
    """Write ``records`` as agency extracts into ``folder``; return the mapping file."""
    folder.mkdir(parents=True, exist_ok=True)
    write_registry(records, folder / "registry.xlsx")
    ev = records.events
    text = [registry_mapping(), OUTCOMES_MAPPING]
    for source in sorted(ev["source"].unique()):
        mine = ev[ev["source"] == source]
        for first, last in PERIODS:
            years = mine["event_date"].dt.year
            part = mine[(years >= first) & (years <= last)]
            write_events_csv(part, folder / "events" / source / f"{first}-{last}.csv")
        text.append(events_mapping(source))
    out = records.outcomes
    pq.write_table(
        pa.table(
            {
                "Семья": pa.array(out["family_id"], pa.string()),
                "Дата исхода": pa.array(out["outcome_date"].to_numpy().astype("datetime64[D]")),
                "Исход": pa.array(out["outcome_type"], pa.string()),
            }
        ),
        folder / "outcomes.parquet",
    )
    mapping = folder / "mapping.toml"
    mapping.write_text("\n".join(text), encoding="utf-8")
    return mapping


@pytest.fixture(scope="module")
def sample() -> Records:
    return load_records(SAMPLE)
