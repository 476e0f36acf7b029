"""Reading a region pack's files: every problem found, and the values when there are none.

Each file is read by one function that returns what it parsed together with the problems it
met, so that ``risk region check`` reports everything in one pass and :func:`load_region`
accepts exactly the packs the check accepts.
"""

from __future__ import annotations

import csv
import math
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import DOMAINS, EVENT_TYPES, SOURCES
from risk._catalog_codes import ALL_DISTRICTS, CATEGORIES, COLUMNS, ELIGIBILITY, SEPARATOR
from risk._model import Capacity
from risk.regions._keys import (
    MISSING,
    Problems,
    check_unknown_keys,
    get_choice,
    get_code,
    get_fraction,
    get_number,
    get_table,
    get_text,
    get_whole,
    read_toml,
)
from risk.regions._pack import RegionDistrict, RegionPack, RegionProblem, SyntheticTargets
from risk.regions._review import read_review

REGION_FILE = "region.toml"
SERVICES_FILE = "services.csv"
VOCABULARY_FILE = "vocabulary.toml"

#: Columns of a pack's ``services.csv``: the catalogue's, without ``region``.
SERVICE_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "region")
UNITS: tuple[str, ...] = ("count", "days", "roubles")
MEMBER_ROLES: tuple[str, ...] = ("parent", "child", "")
#: The generator divides the shares by their sum, so the check is there to catch a typo (0.04
#: for 0.4), not rounding: the shipped Novgorod and Novosibirsk shares sum to 0.985.
SHARE_TOLERANCE = 0.02

_TABLES = ("region", "capacity", "districts", "synthetic", "review", "rollout")
_REGION_KEYS = ("code", "name_ru", "name_en", "timezone")
_CAPACITY_KEYS = ("default", "min_score")
_DISTRICT_KEYS = ("code", "name_ru", "name_en", "capacity", "share", "urban_share")
_SYNTHETIC_KEYS = tuple(SyntheticTargets.__dataclass_fields__)
_EVENT_TYPE_KEYS = (
    "name",
    "source",
    "unit",
    "member_role",
    "domain",
    "description_ru",
    "description_en",
    "synthetic_rate",
)
_TEXT_COLUMNS = (
    "service_id",
    "category",
    "name_ru",
    "name_en",
    "organisation_ru",
    "organisation_en",
)
#: List columns checked against a closed set of codes, with what their codes are called.
_LIST_COLUMNS = {"domains": ("domains", DOMAINS), "eligibility": ("eligibility codes", ELIGIBILITY)}


def read_pack(folder: Path) -> tuple[list[RegionProblem], RegionPack | None]:
    """Return every problem of the pack in ``folder``, and the pack when there are none."""
    region = Problems(REGION_FILE)
    doc = read_toml(folder / REGION_FILE, region)
    if doc is not None:
        check_unknown_keys(doc, _TABLES, "", region)
    head = _region_head(doc, region) if doc is not None else None
    capacity = _capacity(doc, region) if doc is not None else None
    synthetic = _synthetic(doc, region) if doc is not None else None
    review = read_review(doc, region) if doc is not None else None
    districts, codes = _districts(doc, region, synthetic=doc is not None and "synthetic" in doc)
    rollout = _rollout(doc, region, codes) if doc is not None else ()
    services_problems = Problems(SERVICES_FILE)
    services = _services(
        folder / SERVICES_FILE, services_problems, codes, head["code"] if head else ""
    )
    vocabulary_problems = Problems(VOCABULARY_FILE)
    vocabulary_path = folder / VOCABULARY_FILE
    types: tuple[str, ...] = ()
    if vocabulary_path.exists():
        types = _vocabulary(vocabulary_path, vocabulary_problems)
    problems = region.found + services_problems.found + vocabulary_problems.found
    if problems or head is None or capacity is None or districts is None or services is None:
        return problems, None
    per_district = {d.code: d.capacity for d in districts if d.capacity is not None}
    return problems, RegionPack(
        **head,
        capacity=Capacity(default=capacity[0], per_district=per_district, min_score=capacity[1]),
        districts=districts,
        synthetic=synthetic,
        services=services,
        vocabulary_path=vocabulary_path if vocabulary_path.exists() else None,
        vocabulary_types=types,
        path=folder,
        review=review,
        rollout=rollout,
    )


def _rollout(doc: Mapping[str, Any], problems: Problems, codes: Any) -> tuple[tuple[str, ...], ...]:
    # [rollout] waves = [["code", ...], ...]: each a known district, each in one wave at most.
    table = doc.get("rollout")
    if table is None:
        return ()
    if not isinstance(table, Mapping):
        problems.add("[rollout]", "must be a table")
        return ()
    check_unknown_keys(table, ("waves",), "[rollout]", problems)
    waves = table.get("waves", [])
    if not isinstance(waves, list) or not all(
        isinstance(w, list) and w and all(isinstance(c, str) for c in w) for w in waves
    ):
        problems.add("[rollout].waves", "must be a list of non-empty lists of district codes")
        return ()
    known = set(codes or ())
    seen: set[str] = set()
    for code in (c for w in waves for c in w):
        if code not in known:
            problems.add("[rollout].waves", f"unknown district {code!r}")
        elif code in seen:
            problems.add("[rollout].waves", f"district {code!r} is in more than one wave")
        seen.add(code)
    return tuple(tuple(w) for w in waves)


def _region_head(doc: Mapping[str, Any], problems: Problems) -> dict[str, str] | None:
    table = get_table(doc, "region", "[region]", problems)
    if table is None:
        return None
    check_unknown_keys(table, _REGION_KEYS, "[region]", problems)
    code = get_code(table, "code", "[region]", problems)
    name_ru = get_text(table, "name_ru", "[region]", problems)
    name_en = get_text(table, "name_en", "[region]", problems)
    timezone = get_text(table, "timezone", "[region]", problems)
    if timezone is not None and not _timezone_exists(timezone):
        problems.add("[region].timezone", f"unknown time zone {timezone!r}")
        timezone = None
    if code is None or name_ru is None or name_en is None or timezone is None:
        return None
    return {"code": code, "name_ru": name_ru, "name_en": name_en, "timezone": timezone}


def _timezone_exists(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _capacity(doc: Mapping[str, Any], problems: Problems) -> tuple[int, float] | None:
    table = get_table(doc, "capacity", "[capacity]", problems)
    if table is None:
        return None
    check_unknown_keys(table, _CAPACITY_KEYS, "[capacity]", problems)
    default = get_whole(table, "default", "[capacity]", problems, required=True)
    min_score = get_fraction(table, "min_score", "[capacity]", problems, required=True)
    if default is None or min_score is None:
        return None
    return default, min_score


def _synthetic(doc: Mapping[str, Any], problems: Problems) -> SyntheticTargets | None:
    if "synthetic" not in doc:
        return None
    table = get_table(doc, "synthetic", "[synthetic]", problems)
    if table is None:
        return None
    check_unknown_keys(table, _SYNTHETIC_KEYS, "[synthetic]", problems)
    where = "[synthetic]"
    families = get_whole(table, "families", where, problems, required=True, minimum=1)
    per_family = get_number(table, "children_per_family", where, problems, required=True)
    if per_family is not None and not per_family > 0:
        problems.add(f"{where}.children_per_family", f"must be a number > 0; got {per_family!r}")
        per_family = None
    fractions = {
        key: get_fraction(table, key, where, problems, required=True)
        for key in _SYNTHETIC_KEYS
        if key not in ("families", "children_per_family")
    }
    if families is None or per_family is None or any(v is None for v in fractions.values()):
        return None
    return SyntheticTargets(families=families, children_per_family=per_family, **fractions)  # type: ignore[arg-type]


def _districts(
    doc: Mapping[str, Any] | None, problems: Problems, *, synthetic: bool
) -> tuple[tuple[RegionDistrict, ...] | None, tuple[str, ...] | None]:
    """Read the districts (None when any is broken) and the codes that could be read.

    The codes are None when region.toml has no districts to read; they let the services be checked
    even when one district is broken, so that it does not hide the services' own problems.
    """
    if doc is None:
        return None, None
    raw = doc.get("districts", MISSING)
    if raw is MISSING:
        problems.add("[[districts]]", "required key is missing: the pack has no districts")
        return None, None
    if not (isinstance(raw, list) and raw and all(isinstance(t, dict) for t in raw)):
        problems.add("[[districts]]", "must be one or more [[districts]] tables")
        return None, None
    before = len(problems.found)
    out: list[RegionDistrict] = []
    first_seen: dict[str, int] = {}
    for n, table in enumerate(raw, start=1):
        where = f"[[districts]][{n}]"
        check_unknown_keys(table, _DISTRICT_KEYS, where, problems)
        code = get_code(table, "code", where, problems)
        if code is not None and code in first_seen:
            problems.add(
                f"{where}.code",
                f"duplicate district {code!r} (also [[districts]][{first_seen[code]}])",
            )
        elif code is not None:
            first_seen[code] = n
        name_ru = get_text(table, "name_ru", where, problems)
        name_en = get_text(table, "name_en", where, problems)
        capacity = get_whole(table, "capacity", where, problems, required=False)
        share = get_fraction(table, "share", where, problems, required=False)
        urban = get_fraction(table, "urban_share", where, problems, required=False)
        # The generator needs both shares of every district; otherwise they are optional.
        for key in ("share", "urban_share"):
            if synthetic and key not in table:
                problems.add(f"{where}.{key}", "required when [synthetic] is given")
        out.append(RegionDistrict(code or "", name_ru or "", name_en or "", capacity, share, urban))
    shares = [d.share for d in out]
    if all(s is not None for s in shares):
        total = math.fsum(s for s in shares if s is not None)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            problems.add("[[districts]].share", f"shares sum to {total:.6g}, not 1")
    return (tuple(out) if len(problems.found) == before else None), tuple(first_seen)


def _services(
    path: Path, problems: Problems, districts: tuple[str, ...] | None, region: str
) -> pd.DataFrame | None:
    """Read the catalogue frame, or None when the file has a problem.

    ``districts`` are the pack's district codes; None skips the district check (region.toml
    could not be read, so every service would be reported).
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            records = _csv_records(file)
    except FileNotFoundError:
        problems.add("", f"no such file in {path.parent}")
        return None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.add("", f"cannot read {path}: {exc}")
        return None
    if not records:
        problems.add("", "empty: no header")
        return None
    before = len(problems.found)
    header_line, header = records[0]
    if "region" in header:
        problems.add(
            f"line {header_line}", "column region is not allowed: the pack's code is the region"
        )
    missing = [c for c in SERVICE_COLUMNS if c not in header]
    if missing:
        problems.add(f"line {header_line}", f"missing columns {missing}")
        return None
    if len(set(header)) != len(header):
        repeated = sorted({c for c in header if header.count(c) > 1})
        problems.add(f"line {header_line}", f"repeated columns {repeated}")
        return None
    rows: list[dict[str, Any]] = []
    first_seen: dict[str, int] = {}
    for line, values in records[1:]:
        where = f"line {line}"
        if len(values) != len(header):
            problems.add(where, f"{len(values)} fields; the header has {len(header)}")
            continue
        row: dict[str, Any] = dict(zip(header, values, strict=True))
        for column in _TEXT_COLUMNS:
            if not row[column].strip():
                problems.add(where, f"{column} is empty")
        service_id = row["service_id"]
        if service_id.strip() and service_id in first_seen:
            problems.add(
                where,
                f"duplicate service_id {service_id!r} (first on line {first_seen[service_id]})",
            )
        elif service_id.strip():
            first_seen[service_id] = line
        if row["category"].strip() and row["category"] not in CATEGORIES:
            problems.add(
                where,
                f"unknown category {row['category']!r}; categories are {', '.join(CATEGORIES)}",
            )
        for column, (noun, allowed) in _LIST_COLUMNS.items():
            row[column] = _codes(row[column], column, noun, allowed, where, problems)
        row["districts"] = _service_districts(row["districts"], districts, where, problems)
        row["region"] = region
        rows.append(row)
    if len(problems.found) != before or districts is None:
        return None
    return (
        pd.DataFrame(rows, columns=list(COLUMNS))
        if rows
        else pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    )


def _csv_records(file: Any) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records with the line each starts on (a quoted field may span lines)."""
    reader = csv.reader(file)
    out = []
    end = 0
    for values in reader:
        start, end = end + 1, reader.line_num
        if values:
            out.append((start, values))
    return out


def _split(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in value.split(SEPARATOR) if p.strip()))


def _codes(
    value: str,
    column: str,
    noun: str,
    allowed: tuple[str, ...],
    where: str,
    problems: Problems,
) -> tuple[str, ...]:
    codes = _split(value)
    if not codes:
        problems.add(where, f"{column} is empty")
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        problems.add(where, f"unknown {noun} {unknown}; {noun} are {', '.join(allowed)}")
    return codes


def _service_districts(
    value: str, districts: tuple[str, ...] | None, where: str, problems: Problems
) -> tuple[str, ...]:
    codes = _split(value)
    if not codes:
        problems.add(where, "districts is empty")
        return codes
    if districts is None:
        return codes
    lacking = [c for c in codes if c != ALL_DISTRICTS and c not in districts]
    if lacking:
        problems.add(
            where, f"districts the pack lacks {lacking} (see [[districts]] in {REGION_FILE})"
        )
    return districts if ALL_DISTRICTS in codes else codes


def _vocabulary(path: Path, problems: Problems) -> tuple[str, ...]:
    """Names of the new record types; their meaning is read by the features package."""
    doc = read_toml(path, problems)
    if doc is None:
        return ()
    check_unknown_keys(doc, ("event_types",), "", problems)
    raw = doc.get("event_types", MISSING)
    if raw is MISSING:
        problems.add(
            "[[event_types]]", "required key is missing: the file declares no record types"
        )
        return ()
    if not (isinstance(raw, list) and all(isinstance(t, dict) for t in raw)):
        problems.add("[[event_types]]", "must be [[event_types]] tables")
        return ()
    names: list[str] = []
    first_seen: dict[str, int] = {}
    for n, table in enumerate(raw, start=1):
        where = f"[[event_types]][{n}]"
        check_unknown_keys(table, _EVENT_TYPE_KEYS, where, problems)
        name = get_code(table, "name", where, problems)
        if name is not None and name in EVENT_TYPES:
            problems.add(f"{where}.name", f"{name!r} is a built-in record type")
        elif name is not None and name in first_seen:
            problems.add(
                f"{where}.name",
                f"duplicate name {name!r} (also [[event_types]][{first_seen[name]}])",
            )
        elif name is not None:
            first_seen[name] = n
            names.append(name)
        get_choice(table, "source", SOURCES, where, problems, required=True)
        get_choice(table, "unit", UNITS, where, problems, required=True)
        get_choice(table, "member_role", MEMBER_ROLES, where, problems, required=False)
        get_choice(table, "domain", DOMAINS, where, problems, required=True)
        get_text(table, "description_ru", where, problems)
        get_text(table, "description_en", where, problems)
        rate = get_number(table, "synthetic_rate", where, problems, required=False)
        if rate is not None and not rate >= 0:
            problems.add(f"{where}.synthetic_rate", f"must be a number >= 0; got {rate!r}")
    return tuple(names)
