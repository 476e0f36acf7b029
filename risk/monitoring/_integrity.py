"""Input integrity before scoring: a silent or collapsed agency feed marks the run degraded.

Per source and district, the records in the scoring run are compared twice:

- **reference**: events in the lookback window against what the training reference expects
  (its events per family in that district, times the district's families now);
- **trailing**: events in the last ``recent_months`` whole months against the same district's
  own preceding ``trailing_months`` (scaled to the same length).

A source is *silent* when it has no record where some are expected, and has *dropped* when it
has fewer than half of those expected. Small counts vary by chance, so a count is judged only when
seeing that few records by chance is unlikely: its Poisson probability given the expected count
is below ``alpha`` (a silent source needs about 7 expected records at the default 0.001).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import poisson

from features import DEFAULT_LOOKBACK_DAYS, SOURCE_NAMES, SOURCES, Records, screening_population
from risk.monitoring._reference import Reference
from risk.monitoring._volumes import monthly_volumes, window_bounds, window_volumes

#: Columns of :attr:`IntegrityReport.table`.
INTEGRITY_COLUMNS: tuple[str, ...] = (
    "check",
    "district",
    "district_name",
    "source",
    "period",
    "expected",
    "observed",
    "ratio",
    "p_value",
    "status",
)

#: A source below this share of what is expected has dropped.
DROP_RATIO = 0.5

ProblemKind = Literal["silent", "drop"]
Check = Literal["reference", "trailing"]


@dataclass(frozen=True)
class FeedProblem:
    """One source of one district that went silent or dropped by more than half.

    Attributes
    ----------
    source, district : str
        Codes (``features.SOURCES``, ``families.district``).
    kind : {"silent", "drop"}
    expected : float
        Records expected in ``period``.
    observed : int
        Records found in ``period``.
    period : str
        The lookback window (``2021-07-02..2024-06-30``) or the months compared
        (``2024-04..2024-06``).
    check : {"reference", "trailing"}
        What the count was compared with: the training reference or the district's own
        trailing months.
    district_name : str or None
        The district's name, when a name mapping was given.
    """

    source: str
    district: str
    kind: ProblemKind
    expected: float
    observed: int
    period: str
    check: Check
    district_name: str | None = None

    def message(self, lang: Literal["ru", "en"] = "en") -> str:
        """One sentence naming the source, the district and the counts.

        Examples
        --------
        >>> p = FeedProblem("police", "shimsky", "silent", 42.0, 0, "2024-04..2024-06",
        ...                 "trailing", "Shimsky district")
        >>> print(p.message("en"))  # doctest: +NORMALIZE_WHITESPACE
        Police: no records in shimsky (Shimsky district) in 2024-04..2024-06; about 42
        expected from the district's own trailing months
        >>> print(p.message("ru"))  # doctest: +NORMALIZE_WHITESPACE
        Полиция: нет записей в районе shimsky (Shimsky district) за 2024-04..2024-06;
        ожидалось около 42 по предыдущим месяцам района
        """
        ru = lang == "ru"
        source = SOURCE_NAMES.get(self.source, (self.source, self.source))[0 if ru else 1]
        where = self.district + (f" ({self.district_name})" if self.district_name else "")
        expected = f"{self.expected:.0f}"
        if ru:
            basis = (
                "по эталону обучения"
                if self.check == "reference"
                else "по предыдущим месяцам района"
            )
            if self.kind == "silent":
                return (
                    f"{source}: нет записей в районе {where} за {self.period}; "
                    f"ожидалось около {expected} {basis}"
                )
            return (
                f"{source}: {self.observed} записей в районе {where} за {self.period}, меньше "
                f"половины от ожидаемых около {expected} {basis}"
            )
        basis = (
            "from the training reference"
            if self.check == "reference"
            else "from the district's own trailing months"
        )
        if self.kind == "silent":
            return (
                f"{source}: no records in {where} in {self.period}; "
                f"about {expected} expected {basis}"
            )
        return (
            f"{source}: {self.observed} records in {where} in {self.period}, less than half of "
            f"the about {expected} expected {basis}"
        )


@dataclass(frozen=True)
class IntegrityReport:
    """The input-integrity check of one scoring run.

    Attributes
    ----------
    degraded : bool
        True when any source of any district went silent or dropped.
    problems : tuple of FeedProblem
        By district, then source, then check.
    table : pandas.DataFrame
        Every comparison made (:data:`INTEGRITY_COLUMNS`): counts only, no family.
    """

    degraded: bool
    problems: tuple[FeedProblem, ...]
    table: pd.DataFrame


def _judge(expected: np.ndarray, observed: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
    """Status of each count: 'silent', 'drop', 'ok' or 'not judged' (too few expected)."""
    p_value = poisson.cdf(observed, expected)  # P(X <= observed) under the expected rate
    low = (observed < DROP_RATIO * expected) & (p_value < alpha)
    status = np.where(low, np.where(observed == 0, "silent", "drop"), "ok")
    # A count whose collapse to 0 would not be improbable cannot be judged at all.
    status = np.where((poisson.pmf(0, expected) >= alpha) & ~low, "not judged", status)
    return status, p_value


def _reference_rows(
    records: Records, as_of: object, population: pd.Index, reference: Reference, lookback: int
) -> pd.DataFrame:
    volumes = window_volumes(records, as_of, population, lookback)
    first, last = window_bounds(as_of, lookback)
    rate = np.array(
        [
            reference.district_rate(d, s)
            for d, s in zip(volumes["district"], volumes["source"], strict=True)
        ]
    )
    return pd.DataFrame(
        {
            "check": "reference",
            "district": volumes["district"],
            "source": volumes["source"],
            "period": f"{first.date()}..{last.date()}",
            "expected": rate * volumes["families"].to_numpy(dtype=np.float64),
            "observed": volumes["events"],
        }
    )


def _trailing_rows(records: Records, as_of: object, recent: int, trailing: int) -> pd.DataFrame:
    counts = monthly_volumes(records, as_of, recent + trailing)
    before, now = counts.iloc[:, :trailing], counts.iloc[:, trailing:]
    period = f"{now.columns[0]}..{now.columns[-1]}"
    return pd.DataFrame(
        {
            "check": "trailing",
            "district": counts.index.get_level_values("district"),
            "source": counts.index.get_level_values("source"),
            "period": period,
            "expected": before.sum(axis=1).to_numpy(dtype=np.float64) * recent / trailing,
            "observed": now.sum(axis=1).to_numpy(dtype=np.int64),
        }
    )


def check_integrity(
    records: Records,
    as_of: object,
    *,
    reference: Reference | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    district_names: Mapping[str, str] | None = None,
    recent_months: int = 3,
    trailing_months: int = 12,
    alpha: float = 0.001,
) -> IntegrityReport:
    """Compare record volumes per source and district with the reference and trailing months.

    Parameters
    ----------
    records : Records
        The records about to be scored.
    as_of : date-like
        The screening date.
    reference : Reference, optional
        The model's training reference; without it only the trailing-months check runs.
    lookback_days : int, default 1095
        The model's lookback window.
    district_names : mapping of str to str, optional
        District code to name, for the messages.
    recent_months, trailing_months : int, default 3 and 12
        Whole months before ``as_of`` compared, and the months before them they are compared
        with.
    alpha : float, default 0.001
        A count is a problem only when so few records have at most this probability by chance.

    Returns
    -------
    IntegrityReport
    """
    if recent_months < 1 or trailing_months < 1:
        raise ValueError(
            f"recent_months and trailing_months must be at least 1; got {recent_months}, "
            f"{trailing_months}"
        )
    parts = []
    if reference is not None:
        population = screening_population(records, as_of)
        parts.append(_reference_rows(records, as_of, population, reference, lookback_days))
    parts.append(_trailing_rows(records, as_of, recent_months, trailing_months))
    table = pd.concat(parts, ignore_index=True)
    expected = table["expected"].to_numpy(dtype=np.float64)
    observed = table["observed"].to_numpy(dtype=np.int64)
    table["status"], table["p_value"] = _judge(expected, observed, alpha)
    table["ratio"] = np.where(expected > 0, observed / np.where(expected > 0, expected, 1), np.nan)
    names = dict(district_names or {})
    table["district_name"] = table["district"].map(names)
    order = {s: i for i, s in enumerate(SOURCES)}
    table = table.sort_values(
        ["district", "source", "check"], key=lambda c: c.map(order) if c.name == "source" else c
    ).reset_index(drop=True)
    table = table.loc[:, list(INTEGRITY_COLUMNS)]
    bad = table.loc[table["status"].isin(["silent", "drop"])]
    problems = tuple(
        FeedProblem(
            source=str(row["source"]),
            district=str(row["district"]),
            kind=row["status"],
            expected=float(row["expected"]),
            observed=int(row["observed"]),
            period=str(row["period"]),
            check=row["check"],
            district_name=names.get(str(row["district"])),
        )
        for row in bad.to_dict("records")
    )
    return IntegrityReport(bool(problems), problems, table)


def missing_sources_by_district(report: IntegrityReport) -> dict[str, list[str]]:
    """List the sources that went silent or dropped, per district: what its cards say.

    A family of a listed district is scored without (part of) these sources, so its score may
    look lower than it is; its card must say that a source is missing.

    Examples
    --------
    >>> p = FeedProblem("police", "shimsky", "silent", 42.0, 0, "2024-04..2024-06", "trailing")
    >>> report = IntegrityReport(True, (p, p), pd.DataFrame())
    >>> missing_sources_by_district(report)
    {'shimsky': ['police']}
    """
    out: dict[str, list[str]] = {}
    for p in report.problems:
        sources = out.setdefault(p.district, [])
        if p.source not in sources:
            sources.append(p.source)
    order = {s: i for i, s in enumerate(SOURCES)}
    return {d: sorted(s, key=lambda x: order.get(x, len(order))) for d, s in sorted(out.items())}


def missing_sources_for(report: IntegrityReport, districts: Iterable[str]) -> dict[str, list[str]]:
    """:func:`missing_sources_by_district` restricted to ``districts`` (every one, [] if none)."""
    missing = missing_sources_by_district(report)
    return {d: missing.get(d, []) for d in districts}
