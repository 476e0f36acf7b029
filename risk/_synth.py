"""A synthetic population of families that knows the truth.

The generator draws families, their members and the latent monthly process of
:mod:`risk._latent`, then lets agencies emit noisy, partial records of it and draws registered
outcomes from its hazard. Everything is vectorised over families: the only Python loop is over
months (96 of them by default), never over families.

This module is the monthly driver; the population is drawn in ``risk/_synth_population.py``,
the records laid out in ``risk/_synth_records.py``, the truth and its writing in
``risk/_synth_truth.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features import EVENT_TYPES, Records, Vocabulary
from risk import _latent as lat
from risk._profiles import get_profile
from risk._synth_population import (
    BURN_IN_MONTHS,
    SynthConfig,
    Truth,
    _month_starts,
    _Population,
    as_of_dates,
)
from risk._synth_records import SURVEILLED_SOURCES, _assemble, _emissions, _Emitted, _values
from risk._synth_truth import _truth, write_population
from risk._synth_vocabulary import vocabulary_events

__all__ = ["SynthConfig", "Truth", "as_of_dates", "generate", "write_population"]


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
    vocabulary: Vocabulary | None = None,
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
    vocabulary : Vocabulary, optional
        Adds records of its own types at their ``synthetic_rate`` (``risk/_synth_vocabulary.py``).
        Default: the vocabulary of the region pack named ``profile``.

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
    if vocabulary is None:
        from risk._vocabulary import region_vocabulary

        vocabulary = region_vocabulary(cfg.profile)
    records = vocabulary_events(records, vocabulary, state_history, months, cfg.seed)
    truth = _truth(cfg, pop, prof, tables, combos, state_history, months, records)
    return records, truth
