"""The synthetic families before any record: configuration, truth's shape and the population.

:class:`SynthConfig` holds a run's arguments, :class:`Truth` what the generator knows and the
records do not, and :class:`_Population` the families, members and static covariates (as numpy
arrays) that the monthly process of ``risk/_synth.py`` runs over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk._profiles import Profile, get_profile

BURN_IN_MONTHS = 36
#: Columns of :attr:`Truth.potential`.
POTENTIAL: tuple[str, ...] = (
    "family_id",
    "as_of",
    "label_with",
    "label_without",
    "distress_with",
    "distress_without",
    "label_q_with",
    "label_q_without",
    "distress_q_with",
    "distress_q_without",
)
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class SynthConfig:
    """Arguments of one generation run."""

    n_families: int
    seed: int = 0
    profile: str = "novgorod"
    start: str = "2020-01-01"
    end: str = "2025-12-31"
    surveillance_bias: float = 1.0
    label_bias: float = 1.0
    #: Fraction by which outreach lowers a supported family's monthly probabilities of its
    #: distress rising a level and of a crisis being registered (0: outreach changes nothing).
    outreach_effect: float = 0.3
    #: Months that the lowered hazard lasts from the start of outreach.
    effect_months: int = 12

    def validate(self) -> SynthConfig:
        """Raise ``ValueError`` naming the argument that is out of range."""
        if self.n_families < 1:
            raise ValueError(f"--families must be at least 1; got {self.n_families}")
        get_profile(self.profile)
        start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        if start.day != 1:
            raise ValueError(f"--start must be the first day of a month; got {self.start}")
        if end < start + pd.DateOffset(years=2) - pd.Timedelta(days=1):
            raise ValueError(f"--end must be at least two years after --start; got {self.end}")
        for name in ("surveillance_bias", "label_bias"):
            value = getattr(self, name)
            if not (value > 0 and np.isfinite(value)):
                raise ValueError(
                    f"--{name.replace('_', '-')} must be a positive number; got {value}"
                )
        if not 0.0 <= self.outreach_effect <= 1.0:
            raise ValueError(
                f"--outreach-effect must be between 0 and 1; got {self.outreach_effect}"
            )
        if self.effect_months < 0 or int(self.effect_months) != self.effect_months:
            raise ValueError(
                f"--effect-months must be a whole number of months >= 0; got {self.effect_months}"
            )
        return self


@dataclass(frozen=True)
class Truth:
    """What the generator knows and the records do not.

    Attributes
    ----------
    families : pandas.DataFrame
        Hidden attributes per family at the extraction date: ``family_id, district, settlement,
        low_income, single_parent, large_family, disabled_child, children``.
    snapshots : pandas.DataFrame
        ``family_id, as_of, p_true, label, distress`` for each quarterly as-of date and each
        family in the screening population at that date.
    potential : pandas.DataFrame
        Potential outcomes of the families that outreach reached (empty without outreach): for
        each snapshot row of such a family, ``label_with``/``label_without`` (a registered outcome
        in the 12 months after ``as_of``, with the outreach that happened and in the same world
        without any outreach), ``distress_with``/``distress_without`` (a crisis month in those 12
        months), and the same four over the next 3 months (``*_q_*``). Both paths share their
        random numbers, so they differ only by the outreach; families absent from it have
        identical paths.
    """

    families: pd.DataFrame
    snapshots: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    potential: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(POTENTIAL)))


def as_of_dates(start: str | pd.Timestamp, end: str | pd.Timestamp) -> list[pd.Timestamp]:
    """Quarterly as-of dates from ``start`` + 1 year to ``end`` − 1 year.

    Examples
    --------
    >>> [d.date().isoformat() for d in as_of_dates("2020-01-01", "2025-12-31")][:3]
    ['2021-01-01', '2021-04-01', '2021-07-01']
    """
    first = pd.Timestamp(start) + pd.DateOffset(years=1)
    last = pd.Timestamp(end) - pd.DateOffset(years=1)
    return list(pd.date_range(first, last, freq="QS-JAN"))


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    numbers = pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string())
    padded = pc.utf8_lpad(numbers, width=width, padding="0")
    joined = pc.binary_join_element_wise(prefix, padded, "")
    return pd.Series(pd.array(joined, dtype="str"))


def _month_starts(start: pd.Timestamp, n: int) -> np.ndarray:
    return np.array(pd.date_range(start, periods=n, freq="MS"), dtype="datetime64[D]")


class _Population:
    """Families, members and static covariates, as numpy arrays."""

    def __init__(self, cfg: SynthConfig, profile: Profile, rng: np.random.Generator) -> None:
        n = cfg.n_families
        end = np.datetime64(cfg.end, "D")
        self.n = n
        shares = np.array([d.share for d in profile.districts])
        self.district = rng.choice(len(shares), size=n, p=shares / shares.sum())
        urban_share = np.array([d.urban_share for d in profile.districts])[self.district]
        self.rural = (rng.random(n) >= urban_share).astype(np.int64)

        # Children: total count, then birth dates with the youngest under 18 at the end.
        lam = _children_lambda(profile)
        extra = rng.poisson(lam * (1 + 0.35 * self.rural), size=n)
        self.n_kids = np.minimum(1 + extra, 8)
        youngest_age_days = rng.uniform(30, 18 * 365.25, size=n)
        youngest = end - youngest_age_days.astype("timedelta64[D]")
        gaps = rng.gamma(4.0, 0.75 * 365.25, size=(n, 8)).astype("timedelta64[D]") + np.timedelta64(
            330, "D"
        )
        gaps[:, 0] = np.timedelta64(0, "D")
        offsets = np.cumsum(gaps, axis=1)
        kid_idx = np.arange(8)[None, :] < self.n_kids[:, None]
        births = youngest[:, None] - offsets  # column 0 youngest
        self.kid_family = np.repeat(np.arange(n), self.n_kids)
        self.kid_birth = births[kid_idx]
        self.first_birth = births[np.arange(n), self.n_kids - 1]

        minors_end = self.minor_counts(end)
        self.single_parent = (rng.random(n) < 0.19 + 0.03 * (1 - self.rural)).astype(np.int64)
        self.large = (minors_end >= 3).astype(np.int64)
        dis_p = profile.disabled_child_share * 1.02
        self.kid_disabled = rng.random(len(self.kid_birth)) < dis_p
        self.disabled_child = np.zeros(n, dtype=np.int64)
        minor_kid = self._minor_mask(end)
        np.maximum.at(self.disabled_child, self.kid_family[minor_kid & self.kid_disabled], 1)
        logit = (
            _low_income_intercept(profile)
            + 0.9 * self.rural
            + 0.9 * self.single_parent
            + 1.1 * (self.n_kids >= 3)
            + 0.4 * self.disabled_child
        )
        self.low_income = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)

        # Registration: the first child's birth (or the family's arrival, for a few).
        arrival = rng.random(n) < 0.08
        shift = rng.uniform(0, 10 * 365.25, size=n).astype("timedelta64[D]")
        self.registered_on = np.where(arrival, self.first_birth + shift, self.first_birth)
        self.registered_on = np.minimum(self.registered_on, end - np.timedelta64(20, "D"))

        # Parents.
        mother_age = rng.normal(26.5, 4.5, size=n).clip(17, 45)
        self.mother_birth = self.first_birth - (mother_age * 365.25).astype("timedelta64[D]")
        father_gap = rng.normal(2.5, 3.0, size=n).clip(-5, 15)
        self.father_birth = self.mother_birth - (father_gap * 365.25).astype("timedelta64[D]")
        self.father_only = (rng.random(n) < 0.12) & (self.single_parent == 1)
        self.guardian = (rng.random(n) < 0.02) & (self.single_parent == 1)
        self.parent_disabled = rng.random(n) < 0.03
        self.kid_u = rng.random(len(self.kid_birth))

    def _minor_mask(self, date: np.datetime64) -> np.ndarray:
        age = (date - self.kid_birth) / DAY
        return (age >= 0) & (age < 18 * 365.25)

    def minor_counts(self, date: np.datetime64) -> np.ndarray:
        return np.bincount(self.kid_family[self._minor_mask(date)], minlength=self.n)

    def kids_in_age(self, date: np.datetime64, lo: float, hi: float) -> np.ndarray:
        age = (date - self.kid_birth) / DAY / 365.25
        mask = (age >= lo) & (age < hi)
        return np.bincount(self.kid_family[mask], minlength=self.n)

    def covariates(self) -> dict[str, np.ndarray]:
        return {
            "low_income": self.low_income,
            "single_parent": self.single_parent,
            "large_family": self.large,
            "disabled_child": self.disabled_child,
            "rural": self.rural,
        }


def _children_lambda(profile: Profile) -> float:
    # Poisson rate of children beyond the first, tuned so that minors per family and the share
    # of children in large families land on the profile's targets.
    return {"novgorod": 0.6, "novosibirsk": 0.86}.get(profile.name, 0.6)


def _low_income_intercept(profile: Profile) -> float:
    return {"novgorod": -2.37, "novosibirsk": -2.36}.get(profile.name, -2.37)
