"""The flag payload: what the screener writes per flag, the review store keeps, the app reads.

One :class:`FlagPayload` per flagged family, JSON-serialisable, stored "as shown" when the run is
enqueued. :func:`validate_payload` checks one at the boundary where it is written
(``risk.review.ReviewQueue.enqueue``): a payload that the family card could not render is refused
before anything is stored, with the family and the key named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypedDict, cast

import numpy as np
import pandas as pd

from features import EVENT_TYPES, EventType, InputError

#: Columns ``ScreeningLike.scores`` must have.
SCORE_COLUMNS: tuple[str, ...] = (
    "family_id",
    "district",
    "score",
    "log_odds",
    "tier",
    "flagged",
    "rank_in_district",
    "model_version",
    "as_of",
    "advisory",
)
#: Group attributes kept with each queue item for the supervisors' fairness view.
GROUP_ATTRIBUTES: tuple[str, ...] = (
    "settlement",
    "single_parent",
    "large_family",
    "disabled_child",
    "low_income",
)


class PayloadContribution(TypedDict):
    """One model feature's part in a family's score (``FlagPayload.contributions``)."""

    feature: str
    value: float
    #: Log-odds the feature adds (the family's contributions and base add up to its log-odds).
    contribution: float
    domain: str
    #: The feature's unit in the registry (``days``, ``count``, ``roubles``, ``flag``...).
    unit: str
    description_ru: str
    description_en: str


class PayloadComposition(TypedDict):
    """Who the family is (``FlagPayload.composition``)."""

    n_children: int
    children_ages: list[int]
    single_parent: bool
    large_family: bool
    disabled_child: bool
    low_income: bool
    settlement: str


class PayloadService(TypedDict):
    """A service available in the family's district that it is eligible for."""

    service_id: str
    name_ru: str
    name_en: str
    organisation_ru: str
    organisation_en: str
    category: str
    domains: list[str]
    relevance: float


class PayloadEvent(TypedDict):
    """One record of the family in the lookback (``FlagPayload.timeline``)."""

    event_id: str
    date: str
    source: str
    event_type: str
    value: float | None
    description_ru: str
    description_en: str


class FlagPayload(TypedDict):
    """What a specialist is shown about one flagged family, as the screener wrote it.

    Identity and score (``family_id`` ... ``capacity``), the model's ``lookback_days``,
    ``composition``, ``contributions`` (every model feature, largest first), their sum per need
    domain ``by_domain``, ``coverage`` (per source, whether the family has any record in the
    lookback), ``needs``, ``services`` and the ``timeline`` of its records, oldest first.
    """

    family_id: str
    district: str
    settlement: str
    #: The screening date, ``YYYY-MM-DD``.
    as_of: str
    model_name: str
    model_version: str
    score: float
    log_odds: float
    #: The log-odds of the family the contributions are measured against (``baseline``).
    base_log_odds: float
    #: ``"typical"`` (each signal at its training median) or ``"average"`` family.
    baseline: str
    #: Mean score of the screened population.
    base_rate: float
    tier: str
    rank_in_district: int
    capacity: int
    #: The model's lookback: a "days since" value beyond it means no record in it.
    lookback_days: int
    composition: PayloadComposition
    contributions: list[PayloadContribution]
    by_domain: dict[str, float]
    coverage: dict[str, bool]
    needs: list[str]
    services: list[PayloadService]
    timeline: list[PayloadEvent]
    #: Agency feeds that went silent or collapsed in the family's district before this run
    #: (``risk.monitoring``): its score was made without them, and its card says so.
    missing_sources: list[str]


#: The keys of a :class:`FlagPayload`, in order.
PAYLOAD_KEYS: tuple[str, ...] = tuple(FlagPayload.__annotations__)


class PayloadError(InputError):
    """A flag payload does not follow :class:`FlagPayload`; the message names family and key."""


# -- the check --------------------------------------------------------------------------------

_Check = Callable[[object], str | None]  # returns what is wrong, or None


def _is_str(x: object) -> str | None:
    return None if isinstance(x, str) else "a string"


def _is_bool(x: object) -> str | None:
    return None if isinstance(x, bool) else "true or false"


def _is_int(x: object) -> str | None:
    return None if isinstance(x, int) and not isinstance(x, bool) else "an integer"


def _is_number(x: object) -> str | None:
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x):
        return None
    return "a finite number"


def _is_baseline(x: object) -> str | None:
    return None if x in ("typical", "average") else "'typical' or 'average'"


def _is_optional_number(x: object) -> str | None:
    return None if x is None else _is_number(x)


_FIELDS: dict[type, dict[str, object]] = {}  # filled below: TypedDict -> key -> check or type


def _check(value: object, spec: object, where: str) -> None:
    """Raise ``PayloadError`` naming ``where`` (a key path) when ``value`` does not fit ``spec``."""
    if isinstance(spec, type):  # a TypedDict
        if not isinstance(value, Mapping):
            raise _Wrong(where, "an object", value)
        fields = _FIELDS[spec]
        missing = [k for k in fields if k not in value]
        if missing:
            raise _Missing(f"{where}.{missing[0]}" if where else missing[0])
        extra = [str(k) for k in value if k not in fields]
        if extra:
            key = f"{where}.{extra[0]}" if where else extra[0]
            raise _Wrong(key, f"not a key of {spec.__name__}", None, quote=False)
        for k, sub in fields.items():
            _check(value[k], sub, f"{where}.{k}" if where else k)
    elif isinstance(spec, tuple):  # ("list" | "dict", item spec)
        kind, item = spec
        if kind == "list":
            if not isinstance(value, list):
                raise _Wrong(where, "a list", value)
            for i, v in enumerate(value):
                _check(v, item, f"{where}[{i}]")
        else:
            if not isinstance(value, Mapping):
                raise _Wrong(where, "an object", value)
            for k, v in value.items():
                if not isinstance(k, str):
                    raise _Wrong(where, "an object with string keys", k)
                _check(v, item, f"{where}.{k}")
    else:
        wrong = cast(_Check, spec)(value)
        if wrong is not None:
            raise _Wrong(where, wrong, value)


class _Missing(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"lacks the key {key}")


class _Wrong(Exception):
    def __init__(self, key: str, expected: str, got: object, *, quote: bool = True) -> None:
        shown = repr(got) if len(repr(got)) <= 40 else repr(got)[:37] + "..."
        super().__init__(
            f"{key} must be {expected}; got {shown}" if quote else f"{key} is {expected}"
        )


_FIELDS[PayloadContribution] = {
    "feature": _is_str,
    "value": _is_number,
    "contribution": _is_number,
    "domain": _is_str,
    "unit": _is_str,
    "description_ru": _is_str,
    "description_en": _is_str,
}
_FIELDS[PayloadComposition] = {
    "n_children": _is_int,
    "children_ages": ("list", _is_int),
    "single_parent": _is_bool,
    "large_family": _is_bool,
    "disabled_child": _is_bool,
    "low_income": _is_bool,
    "settlement": _is_str,
}
_FIELDS[PayloadService] = {
    "service_id": _is_str,
    "name_ru": _is_str,
    "name_en": _is_str,
    "organisation_ru": _is_str,
    "organisation_en": _is_str,
    "category": _is_str,
    "domains": ("list", _is_str),
    "relevance": _is_number,
}
_FIELDS[PayloadEvent] = {
    "event_id": _is_str,
    "date": _is_str,
    "source": _is_str,
    "event_type": _is_str,
    "value": _is_optional_number,
    "description_ru": _is_str,
    "description_en": _is_str,
}
_FIELDS[FlagPayload] = {
    "family_id": _is_str,
    "district": _is_str,
    "settlement": _is_str,
    "as_of": _is_str,
    "model_name": _is_str,
    "model_version": _is_str,
    "score": _is_number,
    "log_odds": _is_number,
    "base_log_odds": _is_number,
    "baseline": _is_baseline,
    "base_rate": _is_number,
    "tier": _is_str,
    "rank_in_district": _is_int,
    "capacity": _is_int,
    "lookback_days": _is_int,
    "composition": PayloadComposition,
    "contributions": ("list", PayloadContribution),
    "by_domain": ("dict", _is_number),
    "coverage": ("dict", _is_bool),
    "needs": ("list", _is_str),
    "services": ("list", PayloadService),
    "timeline": ("list", PayloadEvent),
    "missing_sources": ("list", _is_str),
}


def validate_payload(payload: object, *, family_id: str | None = None) -> FlagPayload:
    """Check that ``payload`` is a :class:`FlagPayload`; return it, unchanged, as one.

    Every key of the payload and of its parts must be present with a value of its type (numbers
    finite, flags true or false); a key that the contract does not know is refused too, so that
    a misspelt key is not silently ignored.

    Parameters
    ----------
    payload : object
        The payload to check (it is not modified).
    family_id : str, optional
        The family it is for (default: the payload's own ``family_id``), named in the error; a
        payload for another family than this is refused.

    Raises
    ------
    PayloadError
        Naming the family and the first key that is missing or wrong, with what was found.

    Examples
    --------
    >>> validate_payload({"family_id": "F1", "score": 0.4})
    Traceback (most recent call last):
    ...
    risk._payload.PayloadError: payload of family F1 lacks the key district
    >>> p = example_payload("F1", district="north")
    >>> validate_payload(p) is p
    True
    >>> validate_payload({**p, "capacity": "12"}, family_id="F1")
    Traceback (most recent call last):
    ...
    risk._payload.PayloadError: payload of family F1: capacity must be an integer; got '12'
    """
    who = family_id
    if who is None and isinstance(payload, Mapping):
        who = str(payload.get("family_id", "?"))
    try:
        _check(payload, FlagPayload, "")
    except _Missing as exc:
        raise PayloadError(f"payload of family {who} {exc}") from None
    except _Wrong as exc:
        raise PayloadError(f"payload of family {who}: {exc}") from None
    typed = cast(FlagPayload, payload)
    if family_id is not None and typed["family_id"] != family_id:
        raise PayloadError(
            f"payload of family {family_id}: family_id must be {family_id!r}; "
            f"got {typed['family_id']!r}"
        )
    return typed


def example_payload(family_id: str = "F1", *, district: str = "north") -> FlagPayload:
    """Return a small valid payload without contributions, services or records (for examples).

    Examples
    --------
    >>> p = example_payload("F7", district="north")
    >>> p["family_id"], p["district"], p["composition"]["children_ages"]
    ('F7', 'north', [7])
    """
    return {
        "family_id": family_id,
        "district": district,
        "settlement": "urban",
        "as_of": "2025-06-30",
        "model_name": "family-distress",
        "model_version": "1",
        "score": 0.3,
        "log_odds": -0.85,
        "base_log_odds": -0.85,
        "baseline": "typical",
        "base_rate": 0.05,
        "tier": "priority",
        "rank_in_district": 1,
        "capacity": 10,
        "lookback_days": 1095,
        "composition": {
            "n_children": 1,
            "children_ages": [7],
            "single_parent": False,
            "large_family": False,
            "disabled_child": False,
            "low_income": False,
            "settlement": "urban",
        },
        "contributions": [],
        "by_domain": {},
        "coverage": {},
        "needs": [],
        "services": [],
        "timeline": [],
        "missing_sources": [],
    }


# -- parts built from frames ------------------------------------------------------------------


def contribution_entries(
    contributions: pd.DataFrame, units: Mapping[str, str]
) -> list[PayloadContribution]:
    """One :class:`PayloadContribution` per row of an explanation's contributions, in order."""
    c = contributions
    return [
        {
            "feature": f,
            "value": v,
            "contribution": x,
            "domain": d,
            "unit": str(units[f]),
            "description_ru": ru,
            "description_en": en,
        }
        for f, v, x, d, ru, en in zip(
            c["feature"].tolist(),
            c["value"].to_numpy(dtype=np.float64).tolist(),
            c["contribution"].to_numpy(dtype=np.float64).tolist(),
            c["domain"].tolist(),
            c["description_ru"].tolist(),
            c["description_en"].tolist(),
            strict=True,
        )
    ]


def timelines(
    events: pd.DataFrame,
    family_ids: list[str],
    *,
    as_of: pd.Timestamp,
    lookback_days: int,
    excluded_events: frozenset[str] = frozenset(),
    event_types: Mapping[str, EventType] = EVENT_TYPES,
) -> dict[str, list[PayloadEvent]]:
    """Each family's records in the lookback before ``as_of``, oldest first (disputed left out).

    ``event_types`` describes the records' types: the model's vocabulary, with a region's own.
    """
    ev = events
    t = as_of.to_datetime64()
    lo = (as_of - pd.Timedelta(days=lookback_days)).to_datetime64()
    dates = ev["event_date"].to_numpy(dtype="datetime64[s]")
    keep = (dates >= lo) & (dates < t) & ev["family_id"].astype(str).isin(family_ids).to_numpy()
    if excluded_events:
        keep &= ~ev["event_id"].astype(str).isin(excluded_events).to_numpy()
    window = ev.loc[keep].sort_values(["family_id", "event_date", "event_id"], kind="stable")
    out: dict[str, list[PayloadEvent]] = {f: [] for f in family_ids}
    columns = zip(
        window["family_id"].astype(str).tolist(),
        window["event_id"].astype(str).tolist(),
        window["event_date"].dt.strftime("%Y-%m-%d").tolist(),
        window["source"].astype(str).tolist(),
        window["event_type"].astype(str).tolist(),
        window["value"].to_numpy(dtype=np.float64).tolist(),
        strict=True,
    )
    for fid, event_id, date, source, event_type, value in columns:
        et = event_types.get(event_type)
        out[fid].append(
            {
                "event_id": event_id,
                "date": date,
                "source": source,
                "event_type": event_type,
                "value": None if math.isnan(value) else value,
                "description_ru": et.description_ru if et else event_type,
                "description_en": et.description_en if et else event_type,
            }
        )
    return out
