"""Reading one key of a TOML table: each reader reports its own problem, with the key's path.

A reader returns None for a missing or broken value, so that the caller carries on and every
problem of a file is found in one pass.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from risk.regions._pack import RegionProblem

CODE_PATTERN = re.compile(r"[a-z0-9_]+")
MISSING = object()


@dataclass
class Problems:
    """Problems of one file, collected as they are met."""

    file: str
    found: list[RegionProblem] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.found.append(RegionProblem(self.file, where, message))


def read_toml(path: Path, problems: Problems) -> dict[str, Any] | None:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        problems.add("", f"no such file in {path.parent}")
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)".
        problems.add("", f"not valid TOML: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add("", f"cannot read {path}: {exc}")
    return None


def key_path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def get_table(
    doc: Mapping[str, Any], key: str, where: str, problems: Problems
) -> Mapping[str, Any] | None:
    value = doc.get(key, MISSING)
    if value is MISSING:
        problems.add(where, "required table is missing")
        return None
    if not isinstance(value, dict):
        problems.add(where, f"must be a table; got {value!r}")
        return None
    return value


def check_unknown_keys(
    table: Mapping[str, Any], known: tuple[str, ...], where: str, problems: Problems
) -> None:
    for key in table:
        if key not in known:
            problems.add(key_path(where, key), f"unknown key; keys are {', '.join(known)}")


def get_value(
    table: Mapping[str, Any], key: str, where: str, problems: Problems, *, required: bool
) -> Any:
    value = table.get(key, MISSING)
    if value is MISSING and required:
        problems.add(key_path(where, key), "required key is missing")
    return value


def get_text(table: Mapping[str, Any], key: str, where: str, problems: Problems) -> str | None:
    value = get_value(table, key, where, problems, required=True)
    if value is MISSING:
        return None
    if not (isinstance(value, str) and value.strip()):
        problems.add(key_path(where, key), f"must be non-empty text; got {value!r}")
        return None
    return value


def get_code(table: Mapping[str, Any], key: str, where: str, problems: Problems) -> str | None:
    value = get_text(table, key, where, problems)
    if value is not None and not CODE_PATTERN.fullmatch(value):
        problems.add(
            key_path(where, key),
            f"{value!r} is not a code: use lowercase latin letters, digits and _",
        )
        return None
    return value


def get_choice(
    table: Mapping[str, Any],
    key: str,
    allowed: tuple[str, ...],
    where: str,
    problems: Problems,
    *,
    required: bool,
) -> str | None:
    value = get_value(table, key, where, problems, required=required)
    if value is MISSING:
        return None
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        problems.add(key_path(where, key), f"must be one of {shown}; got {value!r}")
        return None
    return str(value)


def get_number(
    table: Mapping[str, Any], key: str, where: str, problems: Problems, *, required: bool
) -> float | None:
    value = get_value(table, key, where, problems, required=required)
    if value is MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.add(key_path(where, key), f"must be a number; got {value!r}")
        return None
    return float(value)


def get_fraction(
    table: Mapping[str, Any], key: str, where: str, problems: Problems, *, required: bool
) -> float | None:
    value = get_value(table, key, where, problems, required=required)
    if value is MISSING:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0.0 <= value <= 1.0  # also refuses nan
    ):
        problems.add(key_path(where, key), f"must be a number in [0, 1]; got {value!r}")
        return None
    return float(value)


def get_whole(
    table: Mapping[str, Any],
    key: str,
    where: str,
    problems: Problems,
    *,
    required: bool,
    minimum: int = 0,
) -> int | None:
    value = get_value(table, key, where, problems, required=required)
    if value is MISSING:
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < minimum:
        problems.add(key_path(where, key), f"must be a whole number >= {minimum}; got {value!r}")
        return None
    return int(value)
