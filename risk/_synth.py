"""A synthetic population of families that knows the truth.

The generator draws families, their members and the latent monthly process of
:mod:`risk._latent`, then lets agencies emit noisy, partial records of it and draws registered
outcomes from its hazard. Everything is vectorised over families: the only Python loop is over
months (96 of them by default), never over families.

Outreach is an intervention in this world: :class:`World` advances month by month, and a
family it is told to :meth:`World.treat` has its monthly probabilities of rising a distress level
and of a registered crisis lowered by ``outreach_effect`` for ``effect_months``. A second path of
the same families without any outreach runs on the same random numbers, so the truth holds both
potential outcomes. Without outreach, output is that of the plain generator, bit for bit.

This module is the monthly driver; the population is drawn in ``risk/_synth_population.py``,
the records laid out in ``risk/_synth_records.py``, the truth and its writing in
``risk/_synth_truth.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from features import EVENT_TYPES, InputError, Records
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
from risk._synth_truth import _potential, _truth, screening_population, write_population

__all__ = ["SynthConfig", "Truth", "World", "as_of_dates", "generate", "write_population"]


class World:
    """A synthetic region that advances month by month and can be given outreach.

    Parameters
    ----------
    config : SynthConfig
        The run's arguments (``outreach_effect`` and ``effect_months`` act only on families
        that :meth:`treat` is given).
    on_month : callable, optional
        Called as ``on_month(done, total)`` after each simulated month.

    Notes
    -----
    A quarter-by-quarter loop scores the families at a date (:meth:`population` gives the
    oracle ``p_true`` and who is in the screening population), decides, calls :meth:`treat`
    and :meth:`advance` to the next date; :meth:`finish` then simulates to the extraction date
    and returns the records and the truth. History is never regenerated.

    Examples
    --------
    >>> world = World(SynthConfig(300, seed=1, outreach_effect=0.3))
    >>> world.advance("2021-01-01")
    >>> pop = world.population()
    >>> world.treat(pop["family_id"].head(5), "2021-01-01")
    >>> records, truth = world.finish()
    >>> truth.potential["family_id"].nunique()
    5
    """

    def __init__(
        self, config: SynthConfig, on_month: Callable[[int, int], None] | None = None
    ) -> None:
        cfg = config.validate()
        self.config = cfg
        self._on_month = on_month
        prof = get_profile(cfg.profile)
        self._prof = prof
        # One stream per purpose, so that a knob changes only what it should: more police
        # records for low-income families must not shift the draws of any other record.
        seeds = np.random.SeedSequence(cfg.seed).spawn(4 + len(EVENT_TYPES))
        self._rng_pop, self._rng_proc, self._rng_emit, self._rng_out = (
            np.random.default_rng(x) for x in seeds[:4]
        )
        self._rng_type = {
            name: np.random.default_rng(x) for name, x in zip(EVENT_TYPES, seeds[4:], strict=True)
        }
        pop = _Population(cfg, prof, self._rng_pop)
        self._pop = pop
        self._tables = lat.transition_tables(lat.Dynamics(label_bias=cfg.label_bias))
        self._combos = lat.combo_code(pop.covariates())
        start_ts = pd.Timestamp(cfg.start)
        end_d = np.datetime64(cfg.end, "D")
        n_months = (end_d.astype("datetime64[M]") - np.datetime64(cfg.start, "M")).astype(int) + 1
        self._n_months = int(n_months)
        self._months = _month_starts(start_ts, self._n_months + 1)
        self._emissions = _emissions()
        self._z = {k: v.astype(float) for k, v in pop.covariates().items()}
        self._surveil = np.where(pop.low_income == 1, cfg.surveillance_bias, 1.0)
        self._low_income_month = self._rng_pop.integers(0, 12, size=pop.n)

        # Burn in from the stationary-ish "stable" state.
        states = np.zeros(pop.n, dtype=np.int64)
        for _ in range(BURN_IN_MONTHS):
            states = lat.step(states, self._combos, self._tables, self._rng_proc)
        self._states = states
        self._state_history = np.empty((self._n_months, pop.n), dtype=np.uint8)
        self._acc = _Emitted()
        self._type_codes = {name: i for i, name in enumerate(EVENT_TYPES)}
        self._prev = lat.decode(states)
        self._debt = np.zeros(pop.n)
        self._out_fam: list[np.ndarray] = []
        self._out_month: list[np.ndarray] = []
        self._m = 0
        # Outreach: months [start, until) of lowered hazard per family; the path without
        # outreach exists only once some family has been treated.
        self._effect_until = np.zeros(pop.n, dtype=np.int64)
        self._treatments: list[tuple[np.ndarray, int]] = []
        self._cf: _Counterfactual | None = None
        self._survive: np.ndarray | None = None
        self._ids = _family_ids(pop.n)
        self._index = pd.Index(self._ids)

    @property
    def date(self) -> pd.Timestamp:
        """First day of the next month to simulate."""
        return pd.Timestamp(self._months[self._m])

    def _month_of(self, date: str | pd.Timestamp) -> int:
        t = np.datetime64(pd.Timestamp(date).date(), "M")
        return int((t - self._months[0].astype("datetime64[M]")).astype(int))

    def advance(self, until: str | pd.Timestamp) -> None:
        """Simulate every month that starts before ``until`` (at most to the extraction date)."""
        when = pd.Timestamp(until)
        stop = min(self._month_of(when) + (when.day != 1), self._n_months)
        while self._m < stop:
            self._month()

    def population(self) -> pd.DataFrame:
        """Return the screening population at :attr:`date`, its districts and oracle ``p_true``.

        Returns
        -------
        pandas.DataFrame
            ``family_id, district, p_true, under_outreach`` (the last: outreach started less
            than ``effect_months`` ago).
        """
        if self._m >= self._n_months:
            raise InputError(f"the world has reached its extraction date {self.config.end}")
        t = self._months[self._m]
        of, om = self._outcomes_so_far()
        recent = np.zeros(self._pop.n, dtype=bool)
        # Outcome dates fall on days 2..28 of their month, so "in the 365 days before t" is
        # "in the 12 months before t's month", as the truth's snapshots count it.
        recent[of[om >= self._m - 12]] = True
        idx = screening_population(self._pop, t, recent)
        if self._survive is None:
            self._survive = lat.no_outcome_probability(self._tables, 12)
        survive = self._survive
        codes = np.array([d.code for d in self._prof.districts], dtype=object)
        return pd.DataFrame(
            {
                "family_id": pd.Series(self._ids[idx], dtype="str"),
                "district": pd.Series(codes[self._pop.district[idx]], dtype="str"),
                "p_true": 1.0 - survive[self._combos[idx], self._states[idx]],
                "under_outreach": self._effect_until[idx] > self._m,
            }
        )

    def treat(self, family_ids: Iterable[str], date: str | pd.Timestamp) -> None:
        """Start outreach for ``family_ids`` in the month of ``date`` (not before :attr:`date`).

        Raises
        ------
        InputError
            A family id is unknown, or ``date`` is in a month already simulated.
        """
        ids = pd.Index(pd.Series(list(family_ids), dtype="str"))
        idx = self._index.get_indexer(ids)
        if (idx < 0).any():
            unknown = ", ".join(ids[idx < 0][:5])
            raise InputError(f"treat: unknown family id(s) {unknown}")
        month = self._month_of(date)
        if month < self._m:
            raise InputError(f"treat: {date} is before the next month to simulate {self.date}")
        if len(idx):
            self._treatments.append((idx, month))

    def _outcomes_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._out_fam:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(self._out_fam), np.concatenate(self._out_month).astype(np.int64)

    def _start_outreach(self, m: int) -> np.ndarray | None:
        for idx, month in self._treatments:
            if month == m:
                self._effect_until[idx] = m + self.config.effect_months
                # Without an effect the two paths are one: the world stays bit for bit the
                # plain generator's (families are still "under outreach" for the loop).
                if self._cf is None and self.config.outreach_effect > 0:
                    self._cf = _Counterfactual(self._states, self._state_history)
        if self._cf is None:
            return None
        active = self._effect_until > m
        return np.where(active, 1.0 - self.config.outreach_effect, 1.0)

    def _month(self) -> None:
        m, pop = self._m, self._pop
        scale = self._start_outreach(m)
        states = self._states
        self._state_history[m] = states
        s = lat.decode(states)
        month_start = self._months[m]
        registered = pop.registered_on < month_start + np.timedelta64(28, "D")
        elig = {
            "school": pop.kids_in_age(month_start, 7, 18),
            "preschool": pop.kids_in_age(month_start, 3, 7),
            "young": pop.kids_in_age(month_start, 0, 7),
            "teen": pop.kids_in_age(month_start, 14, 18),
        }
        u_all = self._rng_emit.random((len(self._emissions) + 4, pop.n))
        hits: dict[str, np.ndarray] = {}
        for i, (name, fn) in enumerate(self._emissions.items()):
            p = np.asarray(fn(s, self._z, elig), dtype=float)
            if EVENT_TYPES[name].source in SURVEILLED_SOURCES:
                p = p * self._surveil
            hits[name] = registered & (u_all[i] < np.minimum(p, 0.95))
        # Event types tied to a change of state (onset or end of unemployment).
        prev = self._prev
        onset = (s["U"] == 1) & (prev["U"] == 0) & registered
        k = len(self._emissions)
        hits["job_loss"] = onset & (u_all[k] < 0.75)
        hits["unemployment_registration"] = onset & (u_all[k + 1] < 0.8)
        hits["employment_started"] = (
            (s["U"] == 0) & (prev["U"] == 1) & registered & (u_all[k + 2] < 0.6)
        )
        hits["low_income_status"] = (
            registered
            & (pop.low_income == 1)
            & (self._low_income_month == m % 12)
            & (u_all[k + 3] < 0.9)
        )
        for name, mask in hits.items():
            # Every family draws its own day, member and value each month, hit or not, so that
            # one family's records never shift the draws of another's.
            rng_t = self._rng_type[name]
            u_day, u_member = rng_t.random((2, pop.n))
            values = _values(name, s, self._debt, rng_t)
            hit = np.flatnonzero(mask)
            self._acc.add(
                hit,
                self._type_codes[name],
                m,
                u_day[hit],
                u_member[hit],
                None if values is None else values[hit],
            )
        self._debt = np.where(
            s["H"] == 1,
            self._debt + self._rng_proc.gamma(2.0, 2500.0, size=pop.n),
            self._debt * 0.6,
        )

        hazard_table = self._tables["hazard"].ravel()
        hazard = hazard_table[self._combos * lat.N_STATES + states]
        u_out = self._rng_out.random(pop.n)
        outcome = registered & (u_out < (hazard if scale is None else hazard * scale))
        self._out_fam.append(np.flatnonzero(outcome))
        self._out_month.append(np.full(int(outcome.sum()), m, dtype=np.int32))
        self._prev = s
        u = self._rng_proc.random((len(lat.BINARY) + 1, pop.n))
        self._states = lat.step_from(states, self._combos, self._tables, u, scale)
        if self._cf is not None:
            # The same month without any outreach, on the same random numbers.
            cf = self._cf
            cf.history[m] = cf.states
            hazard_cf = hazard_table[self._combos * lat.N_STATES + cf.states]
            cf.out.append(np.flatnonzero(registered & (u_out < hazard_cf)))
            cf.out_month.append(m)
            cf.states = lat.step_from(cf.states, self._combos, self._tables, u)
        self._m += 1
        if self._on_month is not None:
            self._on_month(self._m, self._n_months)

    def finish(self) -> tuple[Records, Truth]:
        """Simulate to the extraction date and return the records and the truth."""
        while self._m < self._n_months:
            self._month()
        cfg, pop = self.config, self._pop
        records = _assemble(
            cfg,
            pop,
            self._prof,
            self._rng_out,
            self._months,
            self._acc,
            self._out_fam,
            self._out_month,
        )
        truth = _truth(
            cfg,
            pop,
            self._prof,
            self._tables,
            self._combos,
            self._state_history,
            self._months,
            records,
        )
        if self._cf is None:
            return records, truth
        of, om = self._outcomes_so_far()
        cf = self._cf
        # Before the first outreach both paths are one: the same outcomes.
        before = om < cf.out_month[0]
        cf_fam = np.concatenate([of[before], *cf.out]).astype(np.int64)
        cf_month = np.concatenate(
            [om[before], *(np.full(len(f), m) for f, m in zip(cf.out, cf.out_month, strict=True))]
        ).astype(np.int64)
        treated = np.zeros(pop.n, dtype=bool)
        for idx, _ in self._treatments:
            treated[idx] = True
        potential = _potential(
            truth.snapshots,
            self._index,
            treated,
            self._months,
            (self._state_history, of, om),
            (cf.history, cf_fam, cf_month),
        )
        manifest = dict(truth.manifest)
        manifest["outreach"] = {
            "outreach_effect": cfg.outreach_effect,
            "effect_months": cfg.effect_months,
            "families_treated": int(treated.sum()),
            "treatments": int(sum(len(idx) for idx, _ in self._treatments)),
        }
        return records, Truth(truth.families, truth.snapshots, manifest, potential)


class _Counterfactual:
    """The path of every family in the same world without any outreach."""

    def __init__(self, states: np.ndarray, history: np.ndarray) -> None:
        self.states = states.copy()
        self.history = history.copy()
        self.out: list[np.ndarray] = []
        self.out_month: list[int] = []


def _family_ids(n: int) -> np.ndarray:
    # The ids that the records give (see risk/_synth_records.py::_assemble).
    from risk._synth_population import _ids

    return _ids("F", n, max(6, len(str(n)))).to_numpy().astype(str)


def generate(
    n_families: int,
    seed: int = 0,
    *,
    profile: str = "novgorod",
    start: str = "2020-01-01",
    end: str = "2025-12-31",
    surveillance_bias: float = 1.0,
    label_bias: float = 1.0,
    outreach_effect: float = 0.3,
    effect_months: int = 12,
    treatments: pd.DataFrame | None = None,
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
    outreach_effect : float, default 0.3
        Fraction by which outreach lowers a treated family's monthly probabilities of its
        distress rising a level and of a registered crisis; 0 means outreach changes nothing.
    effect_months : int, default 12
        How long the lowered hazard lasts from the start of outreach.
    treatments : pandas.DataFrame, optional
        ``family_id, start_date``: outreach given to these families from these dates (for a
        loop that decides as it goes, use :class:`World`). Without it, nobody is treated and the
        output is that of the generator without outreach, bit for bit.
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
        n_families,
        seed,
        profile,
        start,
        end,
        surveillance_bias,
        label_bias,
        outreach_effect,
        effect_months,
    )
    world = World(cfg, on_month)
    if treatments is not None:
        missing = {"family_id", "start_date"} - set(treatments.columns)
        if missing:
            raise InputError(f"treatments lacks columns {', '.join(sorted(missing))}")
        starts = pd.to_datetime(treatments["start_date"])
        if (starts < pd.Timestamp(cfg.start)).any() or (starts > pd.Timestamp(cfg.end)).any():
            raise InputError(f"treatments: start_date must lie between {cfg.start} and {cfg.end}")
        frame = pd.DataFrame({"family_id": treatments["family_id"].astype(str), "start": starts})
        for date, group in frame.groupby("start", sort=True):
            world.treat(group["family_id"], pd.Timestamp(str(date)))
    return world.finish()
