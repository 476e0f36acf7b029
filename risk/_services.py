"""The services catalog: loading, validation and matching a family's needs to services.

A catalog row is one service of one organisation: its need domains, who is eligible and the
districts where it is available. Matching keeps the services available in the family's district
whose eligibility the family meets, and orders them by how strongly their need domains drive the
family's score. It selects what a specialist may *offer*; it never decides anything.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features import (
    DOMAINS,  # need domains are owned by the feature registry
    InputError,
)
from risk._catalog_codes import ALL_DISTRICTS, CATEGORIES, COLUMNS, ELIGIBILITY, SEPARATOR

if TYPE_CHECKING:
    from risk.regions import RegionPack


MATCH_COLUMNS: tuple[str, ...] = (
    "service_id",
    "name_ru",
    "name_en",
    "organisation_ru",
    "organisation_en",
    "category",
    "domains",
    "eligibility",
    "relevance",
)
"""Columns of :meth:`ServiceCatalog.match`'s result, in order."""

MAX_IDS_IN_MESSAGE = 5
_LIST_COLUMNS = ("domains", "eligibility", "districts")
_TEXT_COLUMNS = ("service_id", "name_ru", "name_en", "organisation_ru", "organisation_en")
# Rounding relevance makes ties between equal sums of different domains exact, so the order by
# service_id that breaks them does not depend on floating-point summation order.
_RELEVANCE_DECIMALS = 12


_Fail = Callable[[str, str, np.ndarray], "CatalogError"]


class CatalogError(InputError):
    """A services catalog, or a request to it, breaks a rule.

    The message names the source, the column, what is wrong and up to five offending service ids,
    e.g. ``services.csv: column domains: 2 rows have unknown codes ['housin'] (service_id
    nsk-lin-003, nsk-lin-007)``.
    """


@dataclass(frozen=True, eq=False)
class ServiceCatalog:
    """A validated services catalog.

    Constructing one validates the frame: it raises :class:`CatalogError` on the first broken
    rule and never modifies the frame it was given.

    Parameters
    ----------
    services : pandas.DataFrame
        One row per service with the :data:`COLUMNS`. ``domains``, ``eligibility`` and
        ``districts`` may be ``;``-separated strings (as in the CSV) or sequences of codes;
        ``districts`` may be ``*``, every district of the service's region.
    source : str, default "services"
        Named at the start of every error message (the file name, when loaded from one).
    districts : mapping of str to sequence of str, optional
        Region code -> its district codes: the regions the ``region`` column may name and the
        districts their services may name (``*`` expands to them). Default: the shipped region
        packs (:func:`risk.regions.shipped_regions`); :meth:`from_region` takes a pack's.

    Attributes
    ----------
    services : pandas.DataFrame
        The catalog in file order; ``domains``, ``eligibility`` and ``districts`` hold tuples of
        codes, with ``*`` expanded to the region's districts. Treat it as read-only: the
        matching indexes are built from it once.

    Examples
    --------
    >>> import pandas as pd
    >>> catalog = ServiceCatalog(pd.DataFrame({
    ...     "service_id": ["s1", "s2"], "region": ["novgorod", "novgorod"],
    ...     "category": ["low_income", "parenting_school"],
    ...     "name_ru": ["Соцконтракт", "Школа"], "name_en": ["Social contract", "School"],
    ...     "organisation_ru": ["Центр", "Центр"], "organisation_en": ["Centre", "Centre"],
    ...     "domains": ["material", "parenting_relations"], "eligibility": ["low_income", "any"],
    ...     "districts": ["shimsky", "*"]}))
    >>> list(catalog.for_district("shimsky").service_id)
    ['s1', 's2']
    >>> list(catalog.for_district("demyansky").service_id)
    ['s2']
    """

    services: pd.DataFrame
    source: str = "services"
    districts: Mapping[str, Sequence[str]] | None = None
    _by_district: dict[str, np.ndarray] = field(init=False, repr=False, compare=False)
    _requires: np.ndarray = field(init=False, repr=False, compare=False)
    _serves: np.ndarray = field(init=False, repr=False, compare=False)
    _id_rank: np.ndarray = field(init=False, repr=False, compare=False)
    _match_columns: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = _shipped_districts() if self.districts is None else self.districts
        regions = {str(r): tuple(str(d) for d in ds) for r, ds in given.items()}
        object.__setattr__(self, "districts", regions)
        frame = _validate(self.services, self.source, regions)
        object.__setattr__(self, "services", frame)
        # Dense masks so that matching is a few vectorised operations per family.
        object.__setattr__(self, "_requires", _mask(frame["eligibility"], ELIGIBILITY))
        object.__setattr__(self, "_serves", _mask(frame["domains"], DOMAINS).astype(float))
        object.__setattr__(
            self, "_id_rank", np.argsort(np.argsort(frame["service_id"].to_numpy(dtype=str)))
        )
        object.__setattr__(
            self, "_match_columns", [frame.columns.get_loc(c) for c in MATCH_COLUMNS[:-1]]
        )
        by_district: dict[str, list[int]] = {d: [] for ds in regions.values() for d in ds}
        for i, districts in enumerate(frame["districts"]):
            for d in districts:
                by_district[d].append(i)
        object.__setattr__(
            self, "_by_district", {d: np.array(ix, dtype=np.intp) for d, ix in by_district.items()}
        )

    @classmethod
    def from_region(cls, pack: RegionPack) -> ServiceCatalog:
        """Return the catalogue of a region pack, matching within the pack's districts.

        Examples
        --------
        >>> from risk.regions import load_region
        >>> ServiceCatalog.from_region(load_region("novgorod"))
        ServiceCatalog(45 services: novgorod 45)
        """
        return cls(
            pack.services,
            source=f"{pack.path / 'services.csv'}",
            districts={pack.code: pack.district_codes},
        )

    @property
    def district_codes(self) -> frozenset[str]:
        """Every district the catalogue's regions have (with or without services)."""
        return frozenset(self._by_district)

    def __len__(self) -> int:
        return len(self.services)

    def __repr__(self) -> str:
        per_region = self.services["region"].value_counts().sort_index()
        counts = ", ".join(f"{region} {n}" for region, n in per_region.items())
        return f"ServiceCatalog({len(self)} services: {counts or 'none'})"

    def for_district(self, district: str) -> pd.DataFrame:
        """Return every service available in ``district``, in catalog order.

        Raises
        ------
        CatalogError
            ``district`` is not a district of the catalogue's regions.
        """
        return self.services.iloc[self._rows(district)].reset_index(drop=True)

    def match(
        self,
        district: str,
        *,
        attributes: Mapping[str, bool],
        domain_weights: Mapping[str, float],
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Return the services a family may be offered, most relevant first.

        Parameters
        ----------
        district : str
            The family's district code.
        attributes : mapping of str to bool
            Which eligibility codes hold for the family (:data:`ELIGIBILITY` minus ``any``, which
            always holds); codes left out do not hold.
        domain_weights : mapping of str to float
            How strongly each need domain drives the family's score (for example the sum of its
            positive contributions); finite and non-negative, domains left out weigh 0.
        limit : int, optional
            Return at most this many services.

        Returns
        -------
        pandas.DataFrame
            The :data:`MATCH_COLUMNS` of the services available in ``district`` all of whose
            eligibility codes hold, where ``relevance`` is the sum of ``domain_weights`` over the
            service's domains; sorted by relevance descending, then ``service_id``. Services of
            zero relevance come last but are kept: they are available and the family is eligible.

        Raises
        ------
        CatalogError
            Unknown district, attribute or domain, a weight that is negative or not finite, or a
            negative ``limit``.

        Examples
        --------
        >>> catalog = load_catalog(region="novosibirsk")
        >>> found = catalog.match(
        ...     "tatarsky",
        ...     attributes={"low_income": True, "teenager": True},
        ...     domain_weights={"material": 0.8, "safety": 0.1},
        ...     limit=3,
        ... )
        >>> print(found[["service_id", "category", "relevance"]].to_string(index=False))
         service_id            category  relevance
        nsk-hou-002   temporary_housing        0.9
        nsk-dif-010 difficult_situation        0.8
        nsk-lin-010          low_income        0.8
        """
        rows = self._rows(district)
        have = _attribute_vector(attributes)
        weights = _weight_vector(domain_weights)
        if limit is not None and limit < 0:
            raise CatalogError(f"limit must be non-negative; got {limit}")
        rows = rows[~(self._requires[rows] & ~have).any(axis=1)]
        relevance = np.round(self._serves[rows] @ weights, _RELEVANCE_DECIMALS)
        order = np.lexsort((self._id_rank[rows], -relevance))[:limit]
        found = self.services.iloc[rows[order], self._match_columns].reset_index(drop=True)
        found["relevance"] = relevance[order]
        return found

    def _rows(self, district: str) -> np.ndarray:
        try:
            return self._by_district[district]
        except KeyError:
            known = ", ".join(sorted(self._by_district))
            raise CatalogError(f"unknown district {district!r}; districts are {known}") from None


def load_catalog(
    path: str | os.PathLike[str] | None = None,
    *,
    region: RegionPack | str | os.PathLike[str] | None = None,
) -> ServiceCatalog:
    """Return a region's services catalogue, or read and validate a catalogue CSV.

    Parameters
    ----------
    path : path-like, optional
        A CSV with the :data:`COLUMNS` (UTF-8; lists ``;``-separated); ``region`` may be left
        out when ``region`` is given. Default: the catalogue of the region pack.
    region : RegionPack, str or path-like, optional
        The region pack (or a shipped pack's name, or a pack folder) whose districts the
        services name. Default: without ``path``, the default pack
        (:data:`risk.regions.DEFAULT_REGION`); with ``path``, every shipped pack.

    Raises
    ------
    CatalogError
        The file is missing or unreadable, or the catalog breaks a rule.
    risk.regions.RegionError
        The region pack cannot be found or is broken.

    Examples
    --------
    >>> load_catalog()
    ServiceCatalog(45 services: novgorod 45)
    >>> load_catalog(region="novosibirsk").services.groupby("region").size().to_dict()
    {'novosibirsk': 102}
    """
    from risk.regions import DEFAULT_REGION, RegionPack, load_region

    if region is None and path is None:
        region = DEFAULT_REGION
    pack = region if isinstance(region, RegionPack) or region is None else load_region(region)
    if path is None:
        assert pack is not None  # set above when neither was given
        return ServiceCatalog.from_region(pack)
    file = Path(path)
    return _read(file, file.name, pack)


def _read(file: Path, source: str, pack: RegionPack | None) -> ServiceCatalog:
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{source}: no such file {file}") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CatalogError(f"{source}: cannot read {file}: {exc}") from exc
    if pack is None:
        return ServiceCatalog(frame, source=source)
    if "region" not in frame.columns:
        frame.insert(1, "region", pack.code)
    return ServiceCatalog(frame, source=source, districts={pack.code: pack.district_codes})


@functools.lru_cache(maxsize=1)
def _shipped_districts() -> dict[str, tuple[str, ...]]:
    # Shipped packs do not change while the library runs. Imported here: the region packs'
    # checks use this module's codes.
    from risk.regions import load_region, shipped_regions

    return {name: load_region(name).district_codes for name in shipped_regions()}


def _validate(
    frame: pd.DataFrame, source: str, regions: Mapping[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Return the catalog with list columns as tuples; raise on the first broken rule."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise CatalogError(f"{source}: missing columns {missing}")
    out = pd.DataFrame({c: frame[c].to_numpy(dtype=object, copy=True) for c in COLUMNS})
    row_ids = [
        i if isinstance(i, str) and i.strip() else f"row {n}"
        for n, i in enumerate(out["service_id"])
    ]

    def fail(column: str, problem: str, bad: np.ndarray) -> CatalogError:
        ids = [row_ids[i] for i in np.flatnonzero(bad)]
        n = len(ids)
        shown = ", ".join(ids[:MAX_IDS_IN_MESSAGE])
        more = f", … {n - MAX_IDS_IN_MESSAGE} more" if n > MAX_IDS_IN_MESSAGE else ""
        rows = "1 row has" if n == 1 else f"{n} rows have"
        return CatalogError(
            f"{source}: column {column}: {rows} {problem} (service_id {shown}{more})"
        )

    for column in _TEXT_COLUMNS:
        empty = np.array([not (isinstance(v, str) and v.strip()) for v in out[column]], dtype=bool)
        if empty.any():
            raise fail(column, "an empty value", empty)
    duplicated = out["service_id"].duplicated(keep=False).to_numpy()
    if duplicated.any():
        repeated = sorted(set(out["service_id"][duplicated]))
        raise fail("service_id", f"duplicate ids {repeated}", duplicated)

    for column, allowed in (("region", tuple(regions)), ("category", CATEGORIES)):
        _check_codes(out[column].map(lambda v: (v,)), column, allowed, fail)

    for column in _LIST_COLUMNS:
        out[column] = [_split(v) for v in out[column]]
        empty = np.array([len(v) == 0 for v in out[column]], dtype=bool)
        if empty.any():
            raise fail(column, "no codes", empty)
    _check_codes(out["domains"], "domains", DOMAINS, fail)
    _check_codes(out["eligibility"], "eligibility", ELIGIBILITY, fail)

    expanded, bad_rows, unknown = [], [], set()
    for region, districts in zip(out["region"], out["districts"], strict=True):
        own = regions[region]
        wrong = {d for d in districts if d not in own and d != ALL_DISTRICTS}
        bad_rows.append(bool(wrong))
        unknown |= wrong
        expanded.append(own if ALL_DISTRICTS in districts else tuple(dict.fromkeys(districts)))
    if unknown:
        raise fail(
            "districts",
            f"districts unknown in their region {sorted(unknown)}",
            np.array(bad_rows, dtype=bool),
        )
    out["districts"] = expanded
    for column in ("service_id", "region", "category", *_TEXT_COLUMNS[1:]):
        out[column] = out[column].astype("str")
    return out


def _split(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        parts: Iterable[object] = value.split(SEPARATOR)
    elif isinstance(value, Iterable):
        parts = value
    else:
        parts = ()
    return tuple(str(p).strip() for p in parts if str(p).strip())


def _check_codes(values: pd.Series, column: str, allowed: tuple[str, ...], fail: _Fail) -> None:
    allowed_set = set(allowed)
    unknown: set[str] = set()
    bad = np.zeros(len(values), dtype=bool)
    for i, codes in enumerate(values):
        wrong = {str(c) for c in codes} - allowed_set
        if wrong:
            bad[i] = True
            unknown |= wrong
    if unknown:
        raise fail(column, f"unknown codes {sorted(unknown)}", bad)


def _mask(values: pd.Series, codes: tuple[str, ...]) -> np.ndarray:
    position = {c: j for j, c in enumerate(codes)}
    mask = np.zeros((len(values), len(codes)), dtype=bool)
    for i, row in enumerate(values):
        mask[i, [position[c] for c in row]] = True
    return mask


def _attribute_vector(attributes: Mapping[str, bool]) -> np.ndarray:
    unknown = sorted(set(attributes) - set(ELIGIBILITY))
    if unknown:
        raise CatalogError(
            f"attributes: unknown eligibility codes {unknown}; codes are {', '.join(ELIGIBILITY)}"
        )
    have = np.array([bool(attributes.get(code, False)) for code in ELIGIBILITY], dtype=bool)
    have[ELIGIBILITY.index("any")] = True
    return have


def _weight_vector(domain_weights: Mapping[str, float]) -> np.ndarray:
    unknown = sorted(set(domain_weights) - set(DOMAINS))
    if unknown:
        raise CatalogError(
            f"domain_weights: unknown domains {unknown}; domains are {', '.join(DOMAINS)}"
        )
    bad = {
        d: w for d, w in domain_weights.items() if not (math.isfinite(float(w)) and float(w) >= 0)
    }
    if bad:
        shown = ", ".join(f"{d}={w}" for d, w in bad.items())
        raise CatalogError(f"domain_weights must be finite and non-negative; got {shown}")
    return np.array([float(domain_weights.get(d, 0.0)) for d in DOMAINS], dtype=float)
