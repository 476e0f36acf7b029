"""A synthetic population of families that knows the truth.

The generator draws families, their members and the latent monthly process of
:mod:`risk._latent`, then lets agencies emit noisy, partial records of it and draws registered
outcomes from its hazard. Everything is vectorised over families: the only Python loop is over
months (96 of them by default), never over families.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import EVENT_TYPES, OUTCOME_TYPES, Records, write_table
from risk import _latent as lat
from risk._profiles import Profile, get_profile

BURN_IN_MONTHS = 36
DAY = np.timedelta64(1, "D")

#: Share of registered outcomes by type (SOP registration is the rarest composite part).
OUTCOME_MIX: dict[str, float] = {
    "kdn_case": 0.74,
    "sop_registration": 0.10,
    "parental_rights_restriction": 0.09,
    "child_removal": 0.07,
}


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
    """

    families: pd.DataFrame
    snapshots: pd.DataFrame
    manifest: dict = field(default_factory=dict)


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


# Monthly emission probabilities. Each function takes the decoded state ``s``, covariates ``z``
# and eligibility counts ``e`` and returns the probability of one record of that type this month.
Emission = Callable[
    [dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]], np.ndarray
]


def _emissions() -> dict[str, Emission]:
    def hi(s: dict[str, np.ndarray]) -> np.ndarray:
        return (s["L"] >= 2).astype(float)

    def crisis(s: dict[str, np.ndarray]) -> np.ndarray:
        return (s["L"] == 3).astype(float)

    school = lambda e: (e["school"] > 0).astype(float)  # noqa: E731
    return {
        "benefit_application": lambda s, z, e: (
            0.006 + 0.02 * z["low_income"] + 0.2 * s["U"] + 0.04 * hi(s)
        ),
        "social_contract": lambda s, z, e: 0.06 * s["S"] * (0.5 + z["low_income"]),
        "material_aid": lambda s, z, e: 0.001 + 0.03 * hi(s) + 0.03 * s["H"] + 0.03 * s["S"],
        "school_absence": lambda s, z, e: (
            school(e) * (0.02 + 0.12 * s["L"] + 0.25 * crisis(s) + 0.06 * s["C"] + 0.05 * s["A"])
        ),
        "academic_failure": lambda s, z, e: school(e) * (0.002 + 0.012 * s["L"] + 0.02 * crisis(s)),
        "school_conduct_report": lambda s, z, e: (
            school(e) * (0.002 + 0.015 * s["L"] + 0.05 * s["C"] + 0.05 * crisis(s))
        ),
        "kindergarten_absence": lambda s, z, e: (
            (e["preschool"] > 0) * (0.02 + 0.1 * s["L"] + 0.2 * crisis(s))
        ),
        "missed_checkup": lambda s, z, e: (
            (e["young"] > 0) * (0.01 + 0.04 * s["L"] + 0.01 * z["rural"])
        ),
        "child_emergency_visit": lambda s, z, e: (
            0.003 + 0.02 * hi(s) + 0.03 * s["A"] + 0.02 * s["C"] + 0.06 * crisis(s)
        ),
        "parent_addiction_care": lambda s, z, e: s["A"] * (0.16 - 0.06 * z["rural"]),
        "parent_serious_illness": lambda s, z, e: 0.3 * s["I"],
        "domestic_disturbance_call": lambda s, z, e: (
            0.0008 + 0.15 * s["C"] + 0.06 * s["A"] + 0.08 * crisis(s)
        ),
        "parent_administrative_offence": lambda s, z, e: 0.0008 + 0.07 * s["A"] + 0.01 * s["L"],
        "juvenile_offence": lambda s, z, e: (
            (e["teen"] > 0) * (0.002 + 0.012 * s["L"] + 0.015 * s["C"])
        ),
        "utility_debt": lambda s, z, e: 0.006 + 0.8 * s["H"],
        "utility_disconnection": lambda s, z, e: 0.04 * s["H"],
        "eviction_notice": lambda s, z, e: s["H"] * (0.008 + 0.02 * hi(s)),
    }


#: Sources whose recording rate the surveillance-bias knob multiplies for low-income families.
SURVEILLED_SOURCES = ("police", "social_protection")


def generate(
    n_families: int,
    seed: int = 0,
    *,
    profile: str = "novgorod",
    start: str = "2020-01-01",
    end: str = "2025-12-31",
    surveillance_bias: float = 1.0,
    label_bias: float = 1.0,
    on_month: Callable[[int, int], None] | None = None,
) -> tuple[Records, Truth]:
    """Generate a synthetic population with its records and its truth.

    Parameters
    ----------
    n_families : int
        Number of families (the profile's full size is 76,000 for ``novgorod``).
    seed : int
        Seed of the random generator; the same arguments give identical output.
    profile : {"novgorod", "novosibirsk"}
        Regional profile (districts, composition, targets).
    start, end : str
        First and last day of the records (``start`` must be the first of a month).
    surveillance_bias : float
        Multiplies the chance that police and social-protection events are recorded for
        low-income families at the same latent state.
    label_bias : float
        Multiplies the chance that a low-income family's crisis becomes a registered outcome.
    on_month : callable, optional
        Called as ``on_month(done, total)`` after each simulated month (progress bars).

    Returns
    -------
    (Records, Truth)

    Examples
    --------
    >>> records, truth = generate(300, seed=1)
    >>> records.n_families, set(truth.snapshots.columns) >= {"p_true", "label", "distress"}
    (300, True)
    """
    cfg = SynthConfig(
        n_families, seed, profile, start, end, surveillance_bias, label_bias
    ).validate()
    prof = get_profile(cfg.profile)
    # One stream per purpose, so that a knob changes only what it should: more police
    # records for low-income families must not shift the draws of any other record.
    seeds = np.random.SeedSequence(cfg.seed).spawn(4 + len(EVENT_TYPES))
    rng_pop, rng_proc, rng_emit, rng_out = (np.random.default_rng(x) for x in seeds[:4])
    rng_type = {
        name: np.random.default_rng(x) for name, x in zip(EVENT_TYPES, seeds[4:], strict=True)
    }
    pop = _Population(cfg, prof, rng_pop)
    dyn = lat.Dynamics(label_bias=cfg.label_bias)
    tables = lat.transition_tables(dyn)
    combos = lat.combo_code(pop.covariates())
    start_ts = pd.Timestamp(cfg.start)
    end_d = np.datetime64(cfg.end, "D")
    n_months = (end_d.astype("datetime64[M]") - np.datetime64(cfg.start, "M")).astype(int) + 1
    months = _month_starts(start_ts, n_months + 1)
    emissions = _emissions()
    z = {k: v.astype(float) for k, v in pop.covariates().items()}
    surveil = np.where(pop.low_income == 1, cfg.surveillance_bias, 1.0)
    low_income_month = rng_pop.integers(0, 12, size=pop.n)

    # Burn in from the stationary-ish "stable" state.
    states = np.zeros(pop.n, dtype=np.int64)
    for _ in range(BURN_IN_MONTHS):
        states = lat.step(states, combos, tables, rng_proc)

    state_history = np.empty((n_months, pop.n), dtype=np.uint8)
    acc = _Emitted()
    type_codes = {name: i for i, name in enumerate(EVENT_TYPES)}
    prev = lat.decode(states)
    debt = np.zeros(pop.n)
    out_fam: list[np.ndarray] = []
    out_month: list[np.ndarray] = []
    for m in range(n_months):
        state_history[m] = states
        s = lat.decode(states)
        month_start = months[m]
        registered = pop.registered_on < month_start + np.timedelta64(28, "D")
        elig = {
            "school": pop.kids_in_age(month_start, 7, 18),
            "preschool": pop.kids_in_age(month_start, 3, 7),
            "young": pop.kids_in_age(month_start, 0, 7),
            "teen": pop.kids_in_age(month_start, 14, 18),
        }
        u_all = rng_emit.random((len(emissions) + 4, pop.n))
        hits: dict[str, np.ndarray] = {}
        for i, (name, fn) in enumerate(emissions.items()):
            p = np.asarray(fn(s, z, elig), dtype=float)
            if EVENT_TYPES[name].source in SURVEILLED_SOURCES:
                p = p * surveil
            hits[name] = registered & (u_all[i] < np.minimum(p, 0.95))
        # Event types tied to a change of state (onset or end of unemployment).
        onset = (s["U"] == 1) & (prev["U"] == 0) & registered
        k = len(emissions)
        hits["job_loss"] = onset & (u_all[k] < 0.75)
        hits["unemployment_registration"] = onset & (u_all[k + 1] < 0.8)
        hits["employment_started"] = (
            (s["U"] == 0) & (prev["U"] == 1) & registered & (u_all[k + 2] < 0.6)
        )
        hits["low_income_status"] = (
            registered & (pop.low_income == 1) & (low_income_month == m % 12) & (u_all[k + 3] < 0.9)
        )
        for name, mask in hits.items():
            # Every family draws its own day, member and value each month, hit or not, so that
            # one family's records never shift the draws of another's.
            rng_t = rng_type[name]
            u_day, u_member = rng_t.random((2, pop.n))
            values = _values(name, s, debt, rng_t)
            hit = np.flatnonzero(mask)
            acc.add(
                hit,
                type_codes[name],
                m,
                u_day[hit],
                u_member[hit],
                None if values is None else values[hit],
            )
        debt = np.where(s["H"] == 1, debt + rng_proc.gamma(2.0, 2500.0, size=pop.n), debt * 0.6)

        hazard = tables["hazard"].ravel()[combos * lat.N_STATES + states]
        outcome = registered & (rng_out.random(pop.n) < hazard)
        out_fam.append(np.flatnonzero(outcome))
        out_month.append(np.full(int(outcome.sum()), m, dtype=np.int32))
        prev = s
        states = lat.step(states, combos, tables, rng_proc)
        if on_month is not None:
            on_month(m + 1, n_months)

    records = _assemble(cfg, pop, prof, rng_out, months, acc, out_fam, out_month)
    truth = _truth(cfg, pop, prof, tables, combos, state_history, months, records)
    return records, truth


class _Emitted:
    """Records emitted so far, as growing lists of arrays."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("family", "type", "month", "u_day", "u_member", "value")
        }

    def add(
        self,
        hit: np.ndarray,
        code: int,
        month: int,
        u_day: np.ndarray,
        u_member: np.ndarray,
        values: np.ndarray | None,
    ) -> None:
        p = self.parts
        p["family"].append(hit.astype(np.int64))
        p["type"].append(np.full(len(hit), code, dtype=np.int16))
        p["month"].append(np.full(len(hit), month, dtype=np.int32))
        p["u_day"].append(u_day.astype(np.float32))
        p["u_member"].append(u_member.astype(np.float32))
        p["value"].append(np.full(len(hit), np.nan) if values is None else values.astype(float))

    def arrays(self) -> dict[str, np.ndarray]:
        """Concatenate and release the monthly parts (halves the peak at a million families)."""
        out = {}
        for k in list(self.parts):
            out[k] = np.concatenate(self.parts.pop(k))
        return out


def _values(
    name: str,
    s: dict[str, np.ndarray],
    debt: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Draw this month's value of a ``name`` record for every family, in the type's unit."""
    n = len(debt)
    level = s["L"]
    if name == "school_absence":
        return 1.0 + rng.poisson(1.5 + 2.5 * level)
    if name == "kindergarten_absence":
        return 1.0 + rng.poisson(3.0 + 2.0 * level)
    if name == "material_aid":
        return np.round(rng.lognormal(np.log(8000), 0.5, n), -2)
    if name == "utility_debt":
        small = np.round(rng.lognormal(np.log(3000), 0.7, n), 0)
        return np.where(s["H"] == 1, np.round(debt + small, 0), small)
    return None


def _assemble(
    cfg: SynthConfig,
    pop: _Population,
    prof: Profile,
    rng_out: np.random.Generator,
    months: np.ndarray,
    emitted: _Emitted,
    out_fam: list[np.ndarray],
    out_month: list[np.ndarray],
) -> Records:
    n = pop.n
    width = max(6, len(str(n)))
    ev = emitted.arrays()
    fam_idx, type_idx, month_idx, values = ev["family"], ev["type"], ev["month"], ev["value"]
    family_ids = _ids("F", n, width)
    districts = np.array([d.code for d in prof.districts], dtype=object)
    families = pd.DataFrame(
        {
            "family_id": family_ids,
            "district": pd.Series(districts[pop.district], dtype="str"),
            "settlement": pd.Series(np.where(pop.rural == 1, "rural", "urban"), dtype="str"),
            "registered_on": pop.registered_on.astype("datetime64[s]"),
        }
    )

    # Members: parents first, then children ordered by birth date within each family.
    mother = ~pop.father_only & ~pop.guardian
    father = (pop.single_parent == 0) | pop.father_only
    guardian = pop.guardian
    adult_fam = np.concatenate(
        [np.flatnonzero(mother), np.flatnonzero(father), np.flatnonzero(guardian)]
    )
    adult_role = np.concatenate(
        [
            np.full(mother.sum(), "mother"),
            np.full(father.sum(), "father"),
            np.full(guardian.sum(), "guardian"),
        ]
    )
    adult_birth = np.concatenate(
        [
            pop.mother_birth[mother],
            pop.father_birth[father],
            pop.mother_birth[guardian] - np.timedelta64(9000, "D"),
        ]
    )
    adult_sex = np.where(adult_role == "father", "M", "F")
    adult_dis = np.concatenate(
        [pop.parent_disabled[mother], pop.parent_disabled[father], pop.parent_disabled[guardian]]
    )
    kid_sex = np.where(pop.kid_u < 0.487, "F", "M")
    mem_fam = np.concatenate([adult_fam, pop.kid_family])
    mem_role = np.concatenate([adult_role, np.full(len(pop.kid_family), "child")])
    mem_birth = np.concatenate([adult_birth, pop.kid_birth])
    order = np.lexsort((mem_birth, mem_role != "child", mem_fam))
    mem_fam, mem_role, mem_birth = mem_fam[order], mem_role[order], mem_birth[order]
    mem_sex = np.concatenate([adult_sex, kid_sex])[order]
    mem_dis = np.concatenate([adult_dis, pop.kid_disabled])[order]
    member_ids = _ids("M", len(mem_fam), width + 1)
    members = pd.DataFrame(
        {
            "member_id": member_ids,
            "family_id": family_ids.to_numpy()[mem_fam],
            "role": pd.Series(mem_role, dtype="str"),
            "birth_date": mem_birth.astype("datetime64[s]"),
            "sex": pd.Series(mem_sex, dtype="str"),
            "disability": mem_dis.astype(bool),
        }
    )
    members["family_id"] = members["family_id"].astype("str")

    # Events: a day within the month, a member where the type names one.
    days_in = ((months[1:] - months[:-1]) / DAY).astype(int)
    day = (ev["u_day"] * days_in[month_idx]).astype(int)
    ev_date = months[month_idx] + day.astype("timedelta64[D]")
    member_pos = _pick_members(
        pop, ev["u_member"], fam_idx, type_idx, ev_date, mem_fam, mem_role, mem_birth
    )
    keep = ev_date <= np.datetime64(cfg.end, "D")
    order = np.lexsort((type_idx[keep], fam_idx[keep], ev_date[keep]))
    names = np.array(list(EVENT_TYPES), dtype=object)
    sources = np.array([e.source for e in EVENT_TYPES.values()], dtype=object)
    t = type_idx[keep][order]
    mpos = member_pos[keep][order]
    member_col = pd.Series(member_ids.to_numpy()[np.maximum(mpos, 0)], dtype="str")
    member_col[mpos < 0] = None
    events = pd.DataFrame(
        {
            "event_id": _ids("E", int(keep.sum()), width + 3),
            "family_id": pd.Series(family_ids.to_numpy()[fam_idx[keep][order]], dtype="str"),
            "member_id": member_col,
            "source": pd.Series(sources[t], dtype="str"),
            "event_type": pd.Series(names[t], dtype="str"),
            "event_date": ev_date[keep][order].astype("datetime64[s]"),
            "value": values[keep][order],
        }
    )

    of = np.concatenate(out_fam)
    om = np.concatenate(out_month)
    oday = 1 + (rng_out.random(len(of)) * 27).astype(int)  # days 2..28: never on an as-of date
    odate = months[om] + oday.astype("timedelta64[D]")
    mix = np.array(list(OUTCOME_MIX.values()))
    otype = rng_out.choice(len(mix), size=len(of), p=mix / mix.sum())
    type_names = np.array(list(OUTCOME_MIX), dtype=object)
    order = np.lexsort((of, odate))
    outcomes = pd.DataFrame(
        {
            "family_id": pd.Series(family_ids.to_numpy()[of[order]], dtype="str"),
            "outcome_date": odate[order].astype("datetime64[s]"),
            "outcome_type": pd.Series(type_names[otype[order]], dtype="str"),
        }
    )
    assert set(OUTCOME_MIX) <= set(OUTCOME_TYPES)
    return Records(families, members, events, outcomes, extraction_date=pd.Timestamp(cfg.end))


def _pick_members(
    pop: _Population,
    u_member: np.ndarray,
    fam_idx: np.ndarray,
    type_idx: np.ndarray,
    ev_date: np.ndarray,
    mem_fam: np.ndarray,
    mem_role: np.ndarray,
    mem_birth: np.ndarray,
) -> np.ndarray:
    """Member row per event: a parent, an age-eligible child, or -1 for family-level records."""
    out = np.full(len(fam_idx), -1, dtype=np.int64)
    # Members are sorted by family, adults first, then children by birth date.
    fam_start = np.searchsorted(mem_fam, np.arange(pop.n), side="left")
    n_adults = np.bincount(mem_fam[mem_role != "child"], minlength=pop.n)
    kid_start = fam_start + n_adults
    n_kids = pop.n_kids
    names = list(EVENT_TYPES)
    age_ranges = {
        "school_absence": (7, 18),
        "academic_failure": (7, 18),
        "school_conduct_report": (7, 18),
        "kindergarten_absence": (3, 7),
        "missed_checkup": (0, 7),
        "juvenile_offence": (14, 18),
        "child_emergency_visit": (0, 18),
    }
    for code, name in enumerate(names):
        mask = type_idx == code
        if not mask.any():
            continue
        role = EVENT_TYPES[name].member_role
        u = u_member[mask]
        f = fam_idx[mask]
        if role == "parent":
            out[mask] = fam_start[f] + (u * n_adults[f]).astype(np.int64)
        elif role == "child":
            out[mask] = _pick_children(
                age_ranges.get(name, (0, 18)), u, f, ev_date[mask], kid_start, n_kids, mem_birth
            )
    return out


def _pick_children(
    ages: tuple[int, int],
    u: np.ndarray,
    f: np.ndarray,
    dates: np.ndarray,
    kid_start: np.ndarray,
    n_kids: np.ndarray,
    mem_birth: np.ndarray,
    chunk: int = 1_000_000,
) -> np.ndarray:
    """Member row of an age-eligible child per record, in chunks to bound temporaries."""
    out = np.empty(len(f), dtype=np.int64)
    for start in range(0, len(f), chunk):
        sl = slice(start, start + chunk)
        out[sl] = _pick_children_chunk(ages, u[sl], f[sl], dates[sl], kid_start, n_kids, mem_birth)
    return out


def _pick_children_chunk(
    ages: tuple[int, int],
    u: np.ndarray,
    f: np.ndarray,
    d: np.ndarray,
    kid_start: np.ndarray,
    n_kids: np.ndarray,
    mem_birth: np.ndarray,
) -> np.ndarray:
    lo, hi = ages
    # Children are sorted by birth date: the eligible ones form a contiguous run.
    kid_rows = kid_start[f][:, None] + np.arange(8)[None, :]
    valid = np.arange(8)[None, :] < n_kids[f][:, None]
    births = mem_birth[np.minimum(kid_rows, len(mem_birth) - 1)]
    age = (d[:, None] - births) / DAY / 365.25
    ok = valid & (age >= lo) & (age < hi)
    count = ok.sum(axis=1)
    pick = (u * np.maximum(count, 1)).astype(np.int64)
    # index of the pick-th eligible child
    rank = np.cumsum(ok, axis=1) - 1
    hit = ok & (rank == pick[:, None])
    col = np.where(count > 0, hit.argmax(axis=1), 0)
    return np.where(count > 0, kid_rows[np.arange(len(f)), col], kid_start[f])


def _truth(
    cfg: SynthConfig,
    pop: _Population,
    prof: Profile,
    tables: dict[str, np.ndarray],
    combos: np.ndarray,
    state_history: np.ndarray,
    months: np.ndarray,
    records: Records,
) -> Truth:
    end = np.datetime64(cfg.end, "D")
    minors = pop.minor_counts(end)
    families = pd.DataFrame(
        {
            "family_id": records.families["family_id"],
            "district": records.families["district"],
            "settlement": records.families["settlement"],
            "low_income": pop.low_income.astype(bool),
            "single_parent": pop.single_parent.astype(bool),
            "large_family": pop.large.astype(bool),
            "disabled_child": pop.disabled_child.astype(bool),
            "children": minors.astype(np.int64),
        }
    )
    survive = lat.no_outcome_probability(tables, 12)
    calm = lat.crisis_free_probability(tables, 12)
    out_fam = pd.Categorical(
        records.outcomes["family_id"], categories=records.families["family_id"]
    ).codes
    out_day = records.outcomes["outcome_date"].to_numpy().astype("datetime64[D]")
    frames = []
    for as_of in as_of_dates(cfg.start, cfg.end):
        t = np.datetime64(as_of.date(), "D")
        m = int((t.astype("datetime64[M]") - months[0].astype("datetime64[M]")).astype(int))
        minors_t = pop.minor_counts(t)
        recent = np.zeros(pop.n, dtype=bool)
        recent[out_fam[(out_day >= t - np.timedelta64(365, "D")) & (out_day < t)]] = True
        in_pop = (pop.registered_on < t) & (minors_t > 0) & ~recent
        idx = np.flatnonzero(in_pop)
        st = state_history[m, idx].astype(np.int64)
        p_true = 1.0 - survive[combos[idx], st]
        label = np.zeros(pop.n, dtype=np.int8)
        label[out_fam[(out_day > t) & (out_day <= t + np.timedelta64(365, "D"))]] = 1
        window = state_history[m : m + 12, idx] % lat.N_LEVELS
        distress = (window == lat.CRISIS).any(axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "family_id": records.families["family_id"].to_numpy()[idx],
                    "as_of": np.full(len(idx), t).astype("datetime64[s]"),
                    "p_true": p_true,
                    "p_distress": 1.0 - calm[combos[idx], st],
                    "label": label[idx],
                    "distress": distress.astype(np.int8),
                    # The hidden state at the as-of date (see risk/_latent.py), for analyses
                    # of what the records do not reveal; never a model input.
                    "hidden_state": st.astype(np.int16),
                }
            )
        )
    snapshots = pd.concat(frames, ignore_index=True)
    snapshots["family_id"] = snapshots["family_id"].astype("str")
    manifest = _manifest(cfg, prof, pop, minors, records, snapshots)
    return Truth(families=families, snapshots=snapshots, manifest=manifest)


def _manifest(
    cfg: SynthConfig,
    prof: Profile,
    pop: _Population,
    minors: np.ndarray,
    records: Records,
    snapshots: pd.DataFrame,
) -> dict:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    total = minors.sum()
    sop = records.outcomes[records.outcomes["outcome_type"] == "sop_registration"]
    sop_code = pd.Categorical(sop["family_id"], categories=records.families["family_id"]).codes
    sop_day = sop["outcome_date"].to_numpy().astype("datetime64[D]")
    sop_labels = []
    for as_of, group in snapshots.groupby("as_of", sort=True):
        t = np.datetime64(pd.Timestamp(str(as_of)).date(), "D")
        has = np.zeros(pop.n, dtype=bool)
        has[sop_code[(sop_day > t) & (sop_day <= t + np.timedelta64(365, "D"))]] = True
        fam = pd.Categorical(group["family_id"], categories=records.families["family_id"]).codes
        sop_labels.append(has[fam])
    figures = {
        "children_per_family": float(total / max((minors > 0).sum(), 1)),
        "low_income_child_share": float(minors[pop.low_income == 1].sum() / max(total, 1)),
        "disabled_child_share": _disabled_minor_share(pop, np.datetime64(cfg.end, "D")),
        "large_family_share": float(minors[minors >= 3].sum() / max(total, 1)),
        "outcome_rate_12m": float(snapshots["label"].mean()),
        "sop_rate_12m": float(np.concatenate(sop_labels).mean()) if sop_labels else 0.0,
    }
    rural = pop.rural == 1
    snap_rural = (
        records.families.set_index("family_id")["settlement"]
        .reindex(snapshots["family_id"])
        .to_numpy()
        == "rural"
    )
    by_settlement = {}
    for name, fam_mask, snap_mask in (
        ("urban", ~rural, ~snap_rural),
        ("rural", rural, snap_rural),
    ):
        m = minors[fam_mask]
        by_settlement[name] = {
            "families": int(fam_mask.sum()),
            "children_per_family": float(m.sum() / max((m > 0).sum(), 1)),
            "low_income_child_share": float(
                m[pop.low_income[fam_mask] == 1].sum() / max(m.sum(), 1)
            ),
            "large_family_share": float(m[m >= 3].sum() / max(m.sum(), 1)),
            "outcome_rate_12m": float(snapshots["label"].to_numpy()[snap_mask].mean())
            if snap_mask.any()
            else float("nan"),
        }
    oracle = {}
    for as_of, g in snapshots.groupby("as_of", sort=True):
        key = pd.Timestamp(str(as_of)).date().isoformat()
        y, p = g["label"].to_numpy(), g["p_true"].to_numpy()
        auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
        oracle[key] = {"roc_auc": auc, "brier": float(brier_score_loss(y, p)), "n": int(len(y))}
    return {
        "generator": "family-risk synth",
        "seed": cfg.seed,
        "profile": cfg.profile,
        "parameters": asdict(cfg),
        "extraction_date": pd.Timestamp(cfg.end).date().isoformat(),
        "counts": {
            "families": int(len(records.families)),
            "members": int(len(records.members)),
            "children_under_18": int(total),
            "events": int(len(records.events)),
            "outcomes": int(len(records.outcomes)),
            "snapshots": int(len(snapshots)),
        },
        "figures": figures,
        "targets": prof.targets,
        "by_settlement": by_settlement,
        "oracle": oracle,
    }


def _disabled_minor_share(pop: _Population, end: np.datetime64) -> float:
    minor = pop._minor_mask(end)
    return float(pop.kid_disabled[minor].sum() / max(minor.sum(), 1))


def write_population(records: Records, truth: Truth, out: str | Path) -> Path:
    """Write records, ``truth/`` and ``manifest.json`` to ``out`` atomically."""
    path = Path(out)
    final = records.to_parquet(path, manifest=truth.manifest)
    truth_dir = final / "truth"
    tmp = final / ".truth.tmp"
    tmp.mkdir(exist_ok=True)
    write_table(truth.families, tmp / "families.parquet")
    write_table(truth.snapshots, tmp / "snapshots.parquet")
    truth_dir.mkdir(exist_ok=True)
    for f in tmp.iterdir():
        f.replace(truth_dir / f.name)
    tmp.rmdir()
    (final / "manifest.json").write_text(
        json.dumps(truth.manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return final
