"""What agencies record of the latent process: monthly emissions, values, and the four tables.

The emission probabilities turn each month's decoded state into records; :class:`_Emitted`
collects them; :func:`_assemble` lays out families, members, events and outcomes as
:class:`features.Records`, picking the member each record names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features import EVENT_TYPES, OUTCOME_TYPES, Records
from risk._profiles import Profile
from risk._synth_population import DAY, SynthConfig, _ids, _Population

#: Share of registered outcomes by type (SOP registration is the rarest composite part).
OUTCOME_MIX: dict[str, float] = {
    "kdn_case": 0.74,
    "sop_registration": 0.10,
    "parental_rights_restriction": 0.09,
    "child_removal": 0.07,
}

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
