"""A family's needs and the services that answer them (pure).

A need domain is a *need* of the family when its contributions push the score up by more than
:data:`NEED_THRESHOLD` log-odds, or when a context signal shows it (a low-income status is a
material need; a disabled child or parent is a health and disability need). Context signals are
never model input, so they enter here and not through the score. The same pulls order the
services the catalog offers in the family's district.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from features import DOMAINS
from risk._services import MATCH_COLUMNS, ServiceCatalog

#: A domain whose contributions add more than this (log-odds) drives the score.
NEED_THRESHOLD = 0.05

#: Context feature -> the need domain it shows when it is set.
CONTEXT_NEEDS: Mapping[str, str] = MappingProxyType(
    {
        "low_income": "material",
        "disabled_child": "health_disability",
        "disabled_parent": "health_disability",
    }
)

#: Pull (log-odds equivalent) a context signal adds to its domain when matching services.
CONTEXT_PULL = 0.25

#: Age limits (whole years) of the catalog's ``teenager`` and ``young_child`` eligibility.
TEENAGER_AGES = (12, 17)
YOUNG_CHILD_BELOW = 7

#: Services shown per family.
SERVICES_LIMIT = 10


def domain_pulls(by_domain: Mapping[str, float], context: Mapping[str, float]) -> dict[str, float]:
    """How strongly each need domain pulls: its positive contribution plus context signals.

    Parameters
    ----------
    by_domain : mapping of domain to float
        Sum of the family's contributions per domain (log-odds).
    context : mapping of context feature to value
        The family's context features (``low_income``, ``disabled_child``, ...); a value above
        zero means the signal is present.

    Returns
    -------
    dict
        Domain -> pull, only for domains with a positive pull, in :data:`features.DOMAINS` order.

    Examples
    --------
    >>> domain_pulls({"safety": 0.4, "material": -0.2}, {"low_income": 1})
    {'material': 0.25, 'safety': 0.4}
    """
    pulls = {d: max(float(by_domain.get(d, 0.0)), 0.0) for d in DOMAINS}
    # A domain gets the context pull once, however many of its signals are set.
    for domain in _context_domains(context):
        pulls[domain] += CONTEXT_PULL
    return {d: p for d, p in pulls.items() if p > 0}


def _context_domains(context: Mapping[str, float]) -> set[str]:
    return {d for f, d in CONTEXT_NEEDS.items() if float(context.get(f, 0.0)) > 0}


def needs(by_domain: Mapping[str, float], context: Mapping[str, float]) -> list[str]:
    """Need domains that drive the score or show in context signals, strongest pull first.

    Examples
    --------
    >>> needs({"safety": 0.4, "child_development": 0.01, "material": -0.3}, {"low_income": 1})
    ['safety', 'material']
    >>> needs({"safety": 0.01}, {})
    []
    """
    pulls = domain_pulls(by_domain, context)
    shown = {d for d in DOMAINS if float(by_domain.get(d, 0.0)) > NEED_THRESHOLD}
    shown |= _context_domains(context)
    return sorted(shown, key=lambda d: (-pulls.get(d, 0.0), DOMAINS.index(d)))


def children_ages(members: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Ages in whole years of every child under 18 at ``as_of``, one row per child.

    A person born on ``b`` turns ``n`` on the ``n``-th anniversary of ``b`` (born on 29 February:
    on 1 March in common years), as in the feature builders.

    Returns
    -------
    pandas.DataFrame
        ``family_id`` and ``age`` (int64), sorted by ``family_id`` then ``age``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"family_id": ["a", "a", "b"], "role": ["child", "mother", "child"],
    ...     "birth_date": pd.to_datetime(["2012-03-01", "1990-01-01", "2024-06-01"])})
    >>> children_ages(m, pd.Timestamp("2024-03-01")).to_dict("list")
    {'family_id': ['a'], 'age': [12]}
    """
    t = pd.Timestamp(as_of)
    child = members["role"].to_numpy(dtype=str) == "child"
    born = pd.DatetimeIndex(members["birth_date"])
    before = np.asarray(born < t)
    years = t.year - born.year.to_numpy()
    later_in_year = (born.month.to_numpy() * 100 + born.day.to_numpy()) > t.month * 100 + t.day
    age = years - later_in_year.astype(np.int64)
    keep = child & before & (age < 18)
    out = pd.DataFrame(
        {
            "family_id": members["family_id"].to_numpy(dtype=str)[keep],
            "age": age[keep].astype(np.int64),
        }
    )
    return out.sort_values(["family_id", "age"], kind="stable").reset_index(drop=True)


def eligibility(context: Mapping[str, float], ages: Sequence[int]) -> dict[str, bool]:
    """Which catalog eligibility codes hold for a family.

    Parameters
    ----------
    context : mapping of feature to value
        The family's built features (``disabled_child``, ``low_income``, ``large_family``,
        ``single_parent``).
    ages : sequence of int
        Ages of the family's children under 18.

    Examples
    --------
    >>> eligibility({"low_income": 1, "single_parent": 0}, [3, 13])
    {'disabled_child': False, 'low_income': True, 'large_family': False, 'single_parent': False, 'teenager': True, 'young_child': True}
    """  # noqa: E501
    lo, hi = TEENAGER_AGES
    flags = {
        code: float(context.get(code, 0.0)) > 0
        for code in ("disabled_child", "low_income", "large_family", "single_parent")
    }
    flags["teenager"] = any(lo <= a <= hi for a in ages)
    flags["young_child"] = any(a < YOUNG_CHILD_BELOW for a in ages)
    return flags


def match_services(
    catalog: ServiceCatalog,
    district: str,
    *,
    attributes: Mapping[str, bool],
    pulls: Mapping[str, float],
    limit: int = SERVICES_LIMIT,
) -> pd.DataFrame:
    """Services available in ``district`` whose eligibility holds, strongest pull first.

    A district that the catalogue's regions lack has no services (an empty frame), so that a
    flag there still reaches a specialist; the screener refuses such records when it loads them
    (:func:`risk.regions.check_districts`), so this happens only to a library caller who matches
    by hand.

    Returns
    -------
    pandas.DataFrame
        :data:`risk._services.MATCH_COLUMNS`, as :meth:`ServiceCatalog.match` returns them.

    Examples
    --------
    >>> from risk._services import load_catalog
    >>> found = match_services(load_catalog(), "shimsky",
    ...     attributes={"low_income": True}, pulls={"material": 0.8}, limit=2)
    >>> found[["category", "relevance"]].values.tolist()
    [['temporary_housing', 0.8], ['low_income', 0.8]]
    """
    if district not in catalog.district_codes:
        return catalog.services.iloc[:0].reindex(columns=list(MATCH_COLUMNS))
    return catalog.match(district, attributes=attributes, domain_weights=pulls, limit=limit)


def services_payload(found: pd.DataFrame) -> list[dict[str, Any]]:
    """Turn matched services into plain JSON values, for the review queue.

    Examples
    --------
    >>> from risk._services import load_catalog
    >>> found = match_services(load_catalog(), "shimsky",
    ...     attributes={}, pulls={"safety": 0.5}, limit=1)
    >>> sorted(services_payload(found)[0])
    ['category', 'domains', 'name_en', 'name_ru', 'organisation_en', 'organisation_ru', 'relevance', 'service_id']
    """  # noqa: E501
    text = ("service_id", "name_ru", "name_en", "organisation_ru", "organisation_en", "category")
    columns: dict[str, list[Any]] = {c: found[c].astype(str).tolist() for c in text}
    columns["domains"] = [[str(d) for d in ds] for ds in found["domains"].tolist()]
    columns["relevance"] = found["relevance"].to_numpy(dtype=np.float64).tolist()
    keys = (*text, "domains", "relevance")
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
