"""Write a synthetic population as a region's agencies would export it, with its mapping.

The worked example of ``docs/regions.md``: the records folder written by
``risk synth --region chelyabinsk`` becomes

- ``registry/families.csv`` and ``registry/members.csv``: the family register;
- ``events/SOURCE/YEAR.csv``: one file per agency and year;
- ``outcomes/outcomes.csv``: the commission's decisions;

all in ``cp1251``, ``;``-separated, dates as ``31.12.2024``, Russian headers, Russian values
(``мать``, ``Ж``, ``село``, ``да``), decimal commas and each agency's own event codes, the pack's
new record types (``mfc_visit``, ``utility_disconnection_notice``) included. It also writes
``mapping.toml``, the file ``risk ingest --mapping`` reads to turn them back into records.

Usage::

    python docs/examples/chelyabinsk_extracts.py POPULATION_DIR EXTRACTS_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from features import load_records
from risk import region_vocabulary

#: Each agency's code for each record type (what its information system exports).
CODES: dict[str, str] = {
    "low_income_status": "МАЛОИМ",
    "benefit_application": "ЗАЯВЛ-МСП",
    "social_contract": "СОЦКОНТР",
    "material_aid": "ЭМП",
    "mfc_visit": "МФЦ-ОКНО",
    "school_absence": "ПРОП",
    "academic_failure": "НЕУСП",
    "school_conduct_report": "ПОВЕД",
    "kindergarten_absence": "ПРОП-ДС",
    "missed_checkup": "ОСМОТР-ПРОП",
    "child_emergency_visit": "ЭКСТР",
    "parent_addiction_care": "НАРК",
    "parent_serious_illness": "ТЯЖ-ЗАБ",
    "domestic_disturbance_call": "ВЫЗОВ-СК",
    "parent_administrative_offence": "АП-РОД",
    "juvenile_offence": "ПДН",
    "job_loss": "УВОЛ",
    "unemployment_registration": "БЕЗРАБ",
    "employment_started": "ТРУДОУСТР",
    "utility_debt": "ДОЛГ-ЖКУ",
    "utility_disconnection": "ОТКЛ",
    "utility_disconnection_notice": "ПРЕД-ОТКЛ",
    "eviction_notice": "ВЫСЕЛ",
}
ROLES = {"mother": "мать", "father": "отец", "guardian": "опекун", "child": "ребёнок"}
SEXES = {"F": "Ж", "M": "М"}
SETTLEMENTS = {"urban": "город", "rural": "село"}
OUTCOMES = {
    "kdn_case": "КДН",
    "sop_registration": "СОП",
    "parental_rights_restriction": "ОГР-РОД-ПРАВ",
    "child_removal": "ОТОБРАНИЕ",
}
CSV = 'encoding = "cp1251"\ndelimiter = ";"\ndate_format = "%d.%m.%Y"\nformat = "csv"'


def _date(column: pd.Series) -> pd.Series:
    return column.dt.strftime("%d.%m.%Y")


def _number(value: float) -> str:
    return "" if pd.isna(value) else f"{float(value):g}".replace(".", ",")


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep=";", index=False, encoding="cp1251")


def _table(name: str, table: str, path: str, columns: dict[str, str], extra: str = "") -> str:
    cols = "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in columns.items())
    return (
        f'[extracts.{name}]\ntable = "{table}"\npath = "{path}"\n{CSV}\n{extra}'
        f"[extracts.{name}.columns]\n{cols}\n"
    )


def _values(name: str, column: str, mapping: dict[str, str]) -> str:
    pairs = "\n".join(
        f"{json.dumps(v, ensure_ascii=False)} = {json.dumps(k)}" for k, v in mapping.items()
    )
    return f"[extracts.{name}.values.{column}]\n{pairs}\n"


def write_extracts(population: Path, out: Path) -> Path:
    """Write the agency extracts of ``population`` into ``out``; return the mapping file."""
    vocabulary = region_vocabulary("chelyabinsk")
    records = load_records(population, vocabulary=vocabulary)
    fam, mem, ev = records.families, records.members, records.events
    _write(
        pd.DataFrame(
            {
                "ИД семьи": fam["family_id"],
                "Район": fam["district"],
                "Тип поселения": fam["settlement"].map(SETTLEMENTS),
                "Дата постановки на учёт": _date(fam["registered_on"]),
            }
        ),
        out / "registry" / "families.csv",
    )
    _write(
        pd.DataFrame(
            {
                "ИД": mem["member_id"],
                "ИД семьи": mem["family_id"],
                "Роль": mem["role"].map(ROLES),
                "Дата рождения": _date(mem["birth_date"]),
                "Пол": mem["sex"].map(SEXES),
                "Инвалидность": mem["disability"].map({True: "да", False: "нет"}),
            }
        ),
        out / "registry" / "members.csv",
    )
    _write(
        pd.DataFrame(
            {
                "Семья": records.outcomes["family_id"],
                "Дата решения": _date(records.outcomes["outcome_date"]),
                "Решение": records.outcomes["outcome_type"].map(OUTCOMES),
            }
        ),
        out / "outcomes" / "outcomes.csv",
    )
    mapping = [
        _table(
            "families",
            "families",
            "registry/families.csv",
            {
                "family_id": "ИД семьи",
                "district": "Район",
                "settlement": "Тип поселения",
                "registered_on": "Дата постановки на учёт",
            },
        )
        + _values("families", "settlement", SETTLEMENTS),
        _table(
            "members",
            "members",
            "registry/members.csv",
            {
                "member_id": "ИД",
                "family_id": "ИД семьи",
                "role": "Роль",
                "birth_date": "Дата рождения",
                "sex": "Пол",
                "disability": "Инвалидность",
            },
        )
        + _values("members", "role", ROLES)
        + _values("members", "sex", SEXES),
        _table(
            "outcomes",
            "outcomes",
            "outcomes/outcomes.csv",
            {"family_id": "Семья", "outcome_date": "Дата решения", "outcome_type": "Решение"},
        )
        + _values("outcomes", "outcome_type", OUTCOMES),
    ]
    for source in sorted(ev["source"].unique()):
        mine = ev[ev["source"] == source]
        for year, part in mine.groupby(mine["event_date"].dt.year):
            _write(
                pd.DataFrame(
                    {
                        "Номер записи": part["event_id"],
                        "ИД семьи": part["family_id"],
                        "ИД члена семьи": part["member_id"].fillna(""),
                        "Дата": _date(part["event_date"]),
                        "Код события": part["event_type"].map(CODES),
                        "Значение": part["value"].map(_number),
                    }
                ),
                out / "events" / source / f"{year}.csv",
            )
        types = [n for n, e in vocabulary.event_types.items() if e.source == source]
        codes = "\n".join(f'"{CODES[n]}" = "{n}"' for n in types)
        mapping.append(
            _table(
                source,
                "events",
                f"events/{source}/*.csv",
                {
                    "event_id": "Номер записи",
                    "family_id": "ИД семьи",
                    "member_id": "ИД члена семьи",
                    "event_date": "Дата",
                    "event_type": "Код события",
                    "value": "Значение",
                },
                extra=f'source = "{source}"\n',
            )
            + f"[extracts.{source}.codes]\n{codes}\n"
        )
    file = out / "mapping.toml"
    file.write_text("\n".join(mapping), encoding="utf-8")
    return file


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(f"wrote {write_extracts(Path(sys.argv[1]), Path(sys.argv[2]))}")
