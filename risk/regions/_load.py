"""Finding, checking and loading region packs, and checking records against one."""

from __future__ import annotations

import importlib.resources
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from risk.regions._check import REGION_FILE, read_pack
from risk.regions._pack import RegionError, RegionPack, RegionProblem

DEFAULT_REGION = "novgorod"
"""The shipped pack used when none is given."""

#: Districts named in a :func:`check_districts` message; the rest are counted.
MAX_DISTRICTS_IN_MESSAGE = 10


def _packs_folder() -> Path:
    # Package data of an ordinary (not zipped) install is a folder on disk.
    return Path(str(importlib.resources.files("risk.regions") / "packs"))


def shipped_regions() -> tuple[str, ...]:
    """Names of the region packs shipped with the library, sorted.

    Examples
    --------
    >>> shipped_regions()
    ('chelyabinsk', 'novgorod', 'novosibirsk')
    """
    folder = _packs_folder()
    return tuple(sorted(p.name for p in folder.iterdir() if (p / REGION_FILE).is_file()))


def region_path(pack: str | os.PathLike[str]) -> Path:
    """Return the folder of ``pack``: a shipped pack's name, or a folder path.

    A plain name of a shipped pack (no path separator) means the shipped pack; write
    ``./novgorod`` for a folder of that name in the working directory.

    Raises
    ------
    RegionError
        ``pack`` is neither a folder nor the name of a shipped pack.
    """
    text = os.fspath(pack)
    if isinstance(pack, str) and text in shipped_regions():
        return _packs_folder() / text
    path = Path(text)
    if path.is_dir():
        return path
    raise RegionError(
        f"region pack {text!r} is not a folder, nor a shipped pack ({', '.join(shipped_regions())})"
    )


def check_region(pack: str | os.PathLike[str]) -> list[RegionProblem]:
    """Every problem of a region pack; an empty list when it is valid.

    Parameters
    ----------
    pack : str or path-like
        A folder, or the name of a shipped pack.

    Raises
    ------
    RegionError
        ``pack`` is neither a folder nor the name of a shipped pack.

    Examples
    --------
    >>> check_region("chelyabinsk")
    []
    """
    return read_pack(region_path(pack))[0]


def load_region(pack: str | os.PathLike[str] = DEFAULT_REGION) -> RegionPack:
    """Read and validate a region pack.

    Parameters
    ----------
    pack : str or path-like, default "novgorod"
        A folder holding ``region.toml``, ``services.csv`` and optionally ``vocabulary.toml``,
        or the name of a shipped pack (:func:`shipped_regions`).

    Raises
    ------
    RegionError
        The pack cannot be found, or has problems: the message lists all of them, as
        :func:`check_region` returns them.

    Examples
    --------
    >>> pack = load_region("novgorod")
    >>> pack
    RegionPack('novgorod': 14 districts, 45 services, 0 new record types)
    >>> pack.district_name("shimsky", "en"), pack.capacity_for("velikiy_novgorod")
    ('Shimsky district', 80)
    """
    folder = region_path(pack)
    problems, loaded = read_pack(folder)
    if loaded is None:
        n = len(problems)
        listed = "".join(f"\n  {p}" for p in problems)
        raise RegionError(
            f"region pack {os.fspath(pack)!r} ({folder}) has {n} problem{'s' * (n != 1)}:{listed}"
        )
    return loaded


def check_districts(pack: RegionPack, districts: Iterable[object]) -> None:
    """Refuse records whose families live in districts the pack lacks.

    Parameters
    ----------
    pack : RegionPack
    districts : iterable
        One district code per family (for example ``records.families["district"]``).

    Raises
    ------
    RegionError
        Naming each district the pack lacks and how many families live in it, most families
        first.

    Examples
    --------
    >>> try:
    ...     check_districts(load_region(), ["shimsky", "oz", "demyansky", "oz", "ilmen"])
    ... except RegionError as exc:
    ...     print(exc)
    records name 2 districts the region pack 'novgorod' lacks: 'oz' (2 families), 'ilmen' (1 family)
    """
    known = set(pack.district_codes)
    lacking = Counter(d for d in districts if d not in known)
    if not lacking:
        return
    ordered = sorted(lacking.items(), key=lambda item: (-item[1], str(item[0])))
    shown = ", ".join(
        f"{d!r} ({n} famil{'y' if n == 1 else 'ies'})"
        for d, n in ordered[:MAX_DISTRICTS_IN_MESSAGE]
    )
    more = len(ordered) - MAX_DISTRICTS_IN_MESSAGE
    rest = f", … {more} more" if more > 0 else ""
    n = len(ordered)
    raise RegionError(
        f"records name {n} district{'s' * (n != 1)} the region pack {pack.code!r} lacks: "
        f"{shown}{rest}"
    )
