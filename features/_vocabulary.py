"""A region's vocabulary: the built-in event types plus record types of its own agencies.

A region pack may hold a ``vocabulary.toml`` of ``[[event_types]]`` entries. Each new type is
validated in records like a built-in one and gets the same signals (counts, recency, trend and,
for ``days`` and ``roubles`` units, value sums) in the feature registry. The built-in vocabulary
is :meth:`Vocabulary.builtin`, the default everywhere a vocabulary is taken.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

from features._errors import InputError
from features._registry import DOMAINS
from features._schema import EVENT_TYPES, SOURCES, EventType, Unit

#: Keys of one ``[[event_types]]`` entry, in the order they are checked.
REQUIRED_KEYS: tuple[str, ...] = (
    "name",
    "source",
    "unit",
    "member_role",
    "domain",
    "description_ru",
    "description_en",
)
OPTIONAL_KEYS: tuple[str, ...] = ("synthetic_rate",)
UNITS: tuple[str, ...] = ("count", "days", "roubles")
MEMBER_ROLES: tuple[str, ...] = ("parent", "child", "")

_NAME = re.compile(r"[a-z0-9_]+")


class VocabularyError(InputError):
    """A vocabulary (``vocabulary.toml``) breaks a rule.

    The message names the file, the entry (1-based, in file order) and the key, e.g.
    ``pack/vocabulary.toml: [[event_types]] entry 2, unit: must be one of 'count', 'days',
    'roubles'; got 'hours'``.

    Attributes
    ----------
    path : str
        The file, or ``"Vocabulary"`` for one built in code.
    index : int or None
        1-based entry number; ``None`` for a problem of the whole file.
    key : str or None
        The entry's key at fault.
    """

    def __init__(self, path: str, problem: str, index: int | None = None, key: str | None = None):
        self.path = path
        self.index = index
        self.key = key
        where = f"{path}: "
        if index is not None:
            where += f"[[event_types]] entry {index}, "
        if key is not None:
            where += f"{key}: "
        super().__init__(where + problem)


def _one_of(values: tuple[str, ...], got: object) -> str:
    return f"must be one of {', '.join(repr(v) for v in values)}; got {got!r}"


def _value_problem(key: str, value: object) -> str | None:
    """Return what is wrong with one key's value, or None."""
    if key == "name":
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            return f"must be lower-case letters, digits and '_' ([a-z0-9_]+); got {value!r}"
        if value in EVENT_TYPES:
            return f"{value!r} is a built-in event type"
    elif key == "source":
        if value not in SOURCES:
            return _one_of(SOURCES, value)
    elif key == "unit":
        if value not in UNITS:
            return _one_of(UNITS, value)
    elif key == "member_role":
        if value not in MEMBER_ROLES:
            return _one_of(MEMBER_ROLES, value) + " ('' for a family-level record)"
    elif key == "domain":
        if value not in DOMAINS:
            return _one_of(DOMAINS, value)
    elif key in ("description_ru", "description_en"):
        if not isinstance(value, str) or not value.strip():
            return f"must be a non-empty string; got {value!r}"
    elif key == "synthetic_rate":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(cast(float, value)) or cast(float, value) < 0:
            return f"must be a number of records per family-year, 0 or more; got {value!r}"
    return None


def _fields(event_type: EventType) -> dict[str, object]:
    return {
        "name": event_type.name,
        "source": event_type.source,
        "unit": event_type.unit,
        "member_role": event_type.member_role or "",
        "domain": event_type.domain,
        "description_ru": event_type.description_ru,
        "description_en": event_type.description_en,
        "synthetic_rate": 0.0 if event_type.synthetic_rate is None else event_type.synthetic_rate,
    }


@dataclass(frozen=True)
class Vocabulary:
    """The event types records may hold: the built-in ones, then a region's own.

    Hashable, so the feature registry of a vocabulary is built once.

    Parameters
    ----------
    extra : tuple of EventType
        Types beyond the built-in vocabulary, each with a ``domain``; names unique and not
        built-in.

    Raises
    ------
    VocabularyError
        An extra type breaks a rule of :func:`load_vocabulary`.

    Examples
    --------
    >>> from features import EventType, Vocabulary
    >>> extra = EventType("debt_collection", "housing", "roubles", None,
    ...     "Взыскание долга", "Debt collection", domain="material")
    >>> vocab = Vocabulary((extra,))
    >>> len(Vocabulary.builtin().event_types), len(vocab.event_types), vocab.names[-1]
    (21, 22, 'debt_collection')
    """

    extra: tuple[EventType, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", tuple(self.extra))
        seen: set[str] = set()
        for et in self.extra:
            if not isinstance(et, EventType):
                raise VocabularyError("Vocabulary", f"expected an EventType; got {et!r}")
            where = f"Vocabulary: event type {et.name!r}"
            for key, value in _fields(et).items():
                problem = _value_problem(key, value)
                if problem:
                    raise VocabularyError(where, problem, key=key)
            if et.name in seen:
                raise VocabularyError(where, "defined twice", key="name")
            seen.add(et.name)

    @classmethod
    def builtin(cls) -> Vocabulary:
        """Return the built-in vocabulary (:data:`features.EVENT_TYPES`)."""
        return cls()

    @cached_property
    def event_types(self) -> Mapping[str, EventType]:
        """Every event type, name -> type: the built-in ones first, then the extra ones."""
        return MappingProxyType({**EVENT_TYPES, **{e.name: e for e in self.extra}})

    @property
    def names(self) -> tuple[str, ...]:
        """Event type names in vocabulary order (the codes of ``events.event_type``)."""
        return tuple(self.event_types)


def load_vocabulary(path: str | os.PathLike[str]) -> Vocabulary:
    """Read a ``vocabulary.toml`` of ``[[event_types]]`` entries.

    Each entry has ``name`` (``[a-z0-9_]+``, unique, not a built-in type), ``source`` (one of
    :data:`features.SOURCES`), ``unit`` (``count``, ``days`` or ``roubles``), ``member_role``
    (``parent``, ``child`` or ``""`` for a family-level record), ``domain`` (one of
    :data:`features.DOMAINS`), ``description_ru``, ``description_en`` and optionally
    ``synthetic_rate`` (records per family-year at average distress, for the generator).

    Parameters
    ----------
    path : path-like
        The TOML file.

    Returns
    -------
    Vocabulary
        The built-in types and the file's, in file order.

    Raises
    ------
    VocabularyError
        The file is missing or not TOML, or an entry breaks a rule; the message names the file,
        the entry and the key.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from features import load_vocabulary
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "vocabulary.toml"
    >>> _ = file.write_text('''
    ... [[event_types]]
    ... name = "debt_collection"
    ... source = "housing"
    ... unit = "roubles"
    ... member_role = ""
    ... domain = "material"
    ... description_ru = "Взыскание долга"
    ... description_en = "Debt collection"
    ... ''', encoding="utf-8")
    >>> load_vocabulary(file).extra[0].unit
    'roubles'
    """
    file = Path(path)
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VocabularyError(where, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyError(where, f"cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(where, f"not valid TOML: {exc}") from exc
    unknown = sorted(k for k in data if k != "event_types")
    if unknown:
        raise VocabularyError(
            where,
            f"unknown key(s) {', '.join(map(repr, unknown))}; a vocabulary holds only "
            "[[event_types]] entries",
        )
    entries = data.get("event_types", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise VocabularyError(where, "event_types must be an array of tables ([[event_types]])")
    types: list[EventType] = []
    first_entry: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        types.append(_entry(where, index, entry, first_entry))
    return Vocabulary(tuple(types))


def _entry(where: str, index: int, entry: dict[str, object], first: dict[str, int]) -> EventType:
    """Check one ``[[event_types]]`` entry and return its type."""
    allowed = REQUIRED_KEYS + OPTIONAL_KEYS
    for key in entry:
        if key not in allowed:
            raise VocabularyError(
                where, f"unknown key; keys are {', '.join(allowed)}", index=index, key=key
            )
    for key in REQUIRED_KEYS:
        if key not in entry:
            raise VocabularyError(where, "required key missing", index=index, key=key)
    for key in allowed:
        if key in entry:
            problem = _value_problem(key, entry[key])
            if problem:
                raise VocabularyError(where, problem, index=index, key=key)
    name = cast(str, entry["name"])
    if name in first:
        raise VocabularyError(
            where, f"{name!r} is already defined by entry {first[name]}", index=index, key="name"
        )
    first[name] = index
    role = cast(str, entry["member_role"])
    rate = entry.get("synthetic_rate")
    return EventType(
        name=name,
        source=cast(str, entry["source"]),
        unit=cast(Unit, entry["unit"]),
        member_role=cast(Literal["child", "parent"], role) if role else None,
        description_ru=cast(str, entry["description_ru"]).strip(),
        description_en=cast(str, entry["description_en"]).strip(),
        domain=cast(str, entry["domain"]),
        synthetic_rate=None if rate is None else float(cast(float, rate)),
    )
