"""What a region pack holds once loaded: the region, its districts, capacity and catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from features import InputError
from risk._model import Capacity


class RegionError(InputError):
    """A region pack is missing or broken, or records do not fit it.

    The message lists every problem found, one per line after the first, e.g.
    ``region pack /packs/x has 2 problems:`` then ``region.toml: [region].timezone: unknown
    timezone 'Europe/Nowhere'``.
    """


@dataclass(frozen=True)
class RegionProblem:
    """One problem of a region pack.

    Attributes
    ----------
    file : str
        The pack's file (``region.toml``, ``services.csv`` or ``vocabulary.toml``).
    where : str
        Where in the file: ``line 7`` for a CSV row, a key path such as
        ``[[districts]][3].capacity`` (tables counted from 1) for TOML, or ``""`` for the file
        as a whole.
    message : str
        What is wrong, quoting what was found.
    """

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.file}:{where} {self.message}"


@dataclass(frozen=True)
class RegionDistrict:
    """One district of a region pack.

    ``share`` and ``urban_share`` matter only to the synthetic generator: the district's share of
    the region's families and the share of its families living in urban settlements.
    """

    code: str
    name_ru: str
    name_en: str
    capacity: int | None = None
    share: float | None = None
    urban_share: float | None = None


@dataclass(frozen=True)
class SyntheticTargets:
    """The figures the synthetic generator aims at for a region (``[synthetic]``).

    Shares of children (``low_income_child_share``, ``disabled_child_share``,
    ``large_family_child_share``: children in families with 3+ children) and 12-month rates of
    a registered outcome and of a socially-dangerous-situation registration.
    """

    families: int
    children_per_family: float
    low_income_child_share: float
    disabled_child_share: float
    large_family_child_share: float
    outcome_rate_12m: float
    sop_rate_12m: float


@dataclass(frozen=True)
class ReviewSettings:
    """How the region's review office keeps time (``[review]``).

    Attributes
    ----------
    country : str
        ISO 3166 code of the country whose production calendar counts working days (``"RU"``).
    subdivision : str or None
        Subdivision code, where the country's holidays differ by subdivision.
    sla_working_days : int
        Working days after which a queue item awaiting a decision escalates to a supervisor.
    first_contact_working_days : int
        Working days within which a follow-up's first contact with the family is due.
    """

    country: str = "RU"
    subdivision: str | None = None
    sla_working_days: int = 10
    first_contact_working_days: int = 3


@dataclass(frozen=True, eq=False)
class RegionPack:
    """A validated region pack (see :func:`risk.regions.load_region`).

    Attributes
    ----------
    code, name_ru, name_en : str
        The region's code (``[a-z0-9_]+``) and names.
    timezone : str
        IANA time zone name, checked to exist.
    capacity : risk.Capacity
        ``[capacity]`` default and minimum score, with the districts' own capacities as
        ``per_district``.
    districts : tuple of RegionDistrict
        In file order.
    synthetic : SyntheticTargets or None
        Targets of the synthetic generator, when the pack gives them.
    services : pandas.DataFrame
        The catalogue in the columns of :data:`risk._services.COLUMNS` and file order: ``region``
        filled with the pack's code, ``domains``, ``eligibility`` and ``districts`` as tuples of
        codes with ``*`` expanded to the pack's districts (as :class:`risk.ServiceCatalog`
        holds them). Treat it as read-only.
    vocabulary_path : pathlib.Path or None
        The pack's ``vocabulary.toml``, when it has one.
    vocabulary_types : tuple of str
        Names of the new record types ``vocabulary.toml`` declares.
    path : pathlib.Path
        The pack's folder.
    review : ReviewSettings or None
        The ``[review]`` table: the working calendar's country and the review deadlines.
    rollout : tuple of tuple of str
        ``[rollout] waves``: district codes of each wave of a staged rollout, in order (the
        districts in no wave come last); empty when the pack gives none.
    """

    code: str
    name_ru: str
    name_en: str
    timezone: str
    capacity: Capacity
    districts: tuple[RegionDistrict, ...]
    synthetic: SyntheticTargets | None
    services: pd.DataFrame
    vocabulary_path: Path | None
    vocabulary_types: tuple[str, ...]
    path: Path
    review: ReviewSettings | None = None
    rollout: tuple[tuple[str, ...], ...] = ()

    def __repr__(self) -> str:
        return (
            f"RegionPack({self.code!r}: {len(self.districts)} districts, "
            f"{len(self.services)} services, {len(self.vocabulary_types)} new record types)"
        )

    @property
    def district_codes(self) -> tuple[str, ...]:
        """Codes of the pack's districts, in file order."""
        return tuple(d.code for d in self.districts)

    def district(self, code: str) -> RegionDistrict:
        """Return the district with this code.

        Raises
        ------
        RegionError
            The pack has no such district.
        """
        for d in self.districts:
            if d.code == code:
                return d
        raise RegionError(
            f"region pack {self.code!r} has no district {code!r}; "
            f"districts are {', '.join(self.district_codes)}"
        )

    def district_name(self, code: str, lang: Literal["ru", "en"] = "ru") -> str:
        """Name of the district ``code`` in ``lang``."""
        d = self.district(code)
        return d.name_ru if lang == "ru" else d.name_en

    def capacity_for(self, code: str) -> int:
        """Outreach capacity of the district ``code``: its own, else the pack's default."""
        return self.capacity.for_district(self.district(code).code)
