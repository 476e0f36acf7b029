"""Records of a region's own event types in the synthetic world.

A region pack's ``vocabulary.toml`` may give a new type a ``synthetic_rate``: records per
family-year at average distress. Like the built-in types, the monthly chance of a record rises
with the latent distress level: it is proportional to ``0.5 + L`` (levels 0 to 3), scaled so that
the mean over every registered family-month is ``synthetic_rate / 12``. Each type draws from its
own random stream, after the built-in records are laid out, so a vocabulary never shifts a
built-in record: without one, the population is the plain generator's, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import EventType, Records, Vocabulary
from risk import _latent as lat
from risk._synth_population import DAY, _ids

#: Weight of each distress level in the monthly chance of a record (level 0 to 3).
_LEVEL_WEIGHT = 0.5

#: Stream label of the vocabulary's records, apart from the generator's own streams.
_STREAM = 0x766F63


def vocabulary_events(
    records: Records,
    vocabulary: Vocabulary | None,
    state_history: np.ndarray,
    months: np.ndarray,
    seed: int,
) -> Records:
    """Add records of the vocabulary's own types (those with a ``synthetic_rate``).

    Parameters
    ----------
    records : Records
        The built-in records; ``families`` row ``i`` is family ``i`` of ``state_history``.
    vocabulary : Vocabulary or None
        ``None`` or a vocabulary without rated types returns ``records`` unchanged.
    state_history : numpy.ndarray
        Latent state codes, one row per simulated month.
    months : numpy.ndarray
        First day of each month (``datetime64[D]``), one more than the simulated months.
    seed : int
        The generator's seed.

    Returns
    -------
    Records
    """
    rated = [
        (i, e) for i, e in enumerate(vocabulary.extra if vocabulary else ()) if e.synthetic_rate
    ]
    if not rated:
        return records
    families = records.families
    n = len(families)
    registered_on = families["registered_on"].to_numpy(dtype="datetime64[D]")
    end = np.datetime64(records.extraction_date.date(), "D")
    n_months = len(state_history)
    weights = []
    registered = []
    for m in range(n_months):
        level = lat.decode(state_history[m].astype(np.int64))["L"]
        weights.append(_LEVEL_WEIGHT + level)
        registered.append(registered_on < months[m] + np.timedelta64(28, "D"))
    total = sum(float(w[r].sum()) for w, r in zip(weights, registered, strict=True))
    count = sum(int(r.sum()) for r in registered)
    mean_weight = total / count if count else 1.0
    parts = []
    for i, et in rated:
        rng = np.random.default_rng([seed, _STREAM, i])
        rate = float(et.synthetic_rate or 0.0) / 12.0
        fam_parts, date_parts, level_parts = [], [], []
        for m in range(n_months):
            u, u_day = rng.random((2, n))
            p = np.minimum(rate * weights[m] / mean_weight, 0.95)
            hit = np.flatnonzero(registered[m] & (u < p))
            days = int((months[m + 1] - months[m]) / DAY)
            fam_parts.append(hit)
            date_parts.append(months[m] + (u_day[hit] * days).astype("timedelta64[D]"))
            level_parts.append(weights[m][hit] - _LEVEL_WEIGHT)
        fam = np.concatenate(fam_parts)
        dates = np.concatenate(date_parts)
        level = np.concatenate(level_parts)
        keep = dates <= end
        fam, dates, level = fam[keep], dates[keep], level[keep]
        member = _members(records, et.member_role, fam, dates, rng)
        if et.member_role is not None:
            ok = member >= 0
            fam, dates, level, member = fam[ok], dates[ok], level[ok], member[ok]
        parts.append(_frame(records, et, fam, dates, level, member, rng))
    extra = pd.concat(parts, ignore_index=True)
    width = len(str(records.events["event_id"].iloc[0])) if len(records.events) else 10
    extra["event_id"] = _ids("V", len(extra), width - 1).to_numpy()
    events = pd.concat([records.events, extra], ignore_index=True)
    events = events.sort_values(["event_date", "family_id"], kind="stable", ignore_index=True)
    return Records(
        families,
        records.members,
        events,
        records.outcomes,
        extraction_date=records.extraction_date,
    )


def _members(
    records: Records,
    role: str | None,
    fam: np.ndarray,
    dates: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Member row per record: a parent, a child born by then, or -1 (none, or no such member)."""
    if role is None:
        return np.full(len(fam), -1, dtype=np.int64)
    members = records.members
    codes = pd.Index(records.families["family_id"].astype(str)).get_indexer(
        pd.Index(members["family_id"].astype(str))
    )
    is_child = members["role"].astype(str).to_numpy() == "child"
    rows = np.flatnonzero(is_child if role == "child" else ~is_child)
    rows = rows[np.argsort(codes[rows], kind="stable")]
    by_family = codes[rows]
    start = np.searchsorted(by_family, fam, side="left")
    size = np.searchsorted(by_family, fam, side="right") - start
    pick = start + (rng.random(len(fam)) * np.maximum(size, 1)).astype(np.int64)
    out = np.where(size > 0, rows[np.minimum(pick, len(rows) - 1)], -1)
    if role == "child":
        births = members["birth_date"].to_numpy(dtype="datetime64[D]")
        out = np.where((out >= 0) & (births[np.maximum(out, 0)] <= dates), out, -1)
    return out


def _frame(
    records: Records,
    et: EventType,
    fam: np.ndarray,
    dates: np.ndarray,
    level: np.ndarray,
    member: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    n = len(fam)
    if et.unit == "days":
        value = 1.0 + rng.poisson(1.0 + level)
    elif et.unit == "roubles":
        value = np.round(rng.lognormal(np.log(5000.0) + 0.3 * level, 0.6), -2)
    else:
        value = np.full(n, np.nan)
    family_ids = records.families["family_id"].astype(str).to_numpy()
    member_ids = records.members["member_id"].astype(str).to_numpy()
    member_col = pd.Series(
        member_ids[np.maximum(member, 0)] if len(member_ids) else np.full(n, ""), dtype="str"
    )
    member_col[member < 0] = None
    return pd.DataFrame(
        {
            "event_id": np.full(n, "", dtype=object),
            "family_id": pd.Series(family_ids[fam], dtype="str"),
            "member_id": member_col,
            "source": pd.Series([et.source] * n, dtype="str"),
            "event_type": pd.Series([et.name] * n, dtype="str"),
            "event_date": dates.astype("datetime64[s]"),
            "value": np.asarray(value, dtype=np.float64),
        }
    )
