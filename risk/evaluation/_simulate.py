"""A minimal outreach simulation: score, flag within capacity, accept, treat, advance.

This driver needs no review store. Each quarter it scores the screening population with the
oracle ``p_true`` of the synthetic truth (optionally blurred by noise on the log-odds scale: a
stand-in for a model, *not* a trained one), flags within each district's capacity by the one
flag rule (:func:`risk.flag_mask`), lets each offered family accept with a fixed probability,
starts outreach for those who accept, and advances the world a quarter. Districts join by a
rollout schedule. Families already under outreach are not ranked again until it ends.

It writes what ``risk evaluate`` reads: the records and the truth, ``treatments.parquet`` (the
columns of the review store's treatment record) and ``ranks.parquet`` (every scoring run's
rank, capacity and flag per family).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features import InputError, Records, load_records, write_table
from risk._flags import flag_mask
from risk._model import Capacity
from risk._synth_population import POTENTIAL
from risk.regions import load_region
from risk.synth import SynthConfig, Truth, World, as_of_dates, write_population

#: The seed articles' Novosibirsk rollout, by the districts' English names: three pilots, then
#: one more district, then the rest of the region.
NOVOSIBIRSK_PILOTS: tuple[tuple[str, ...], ...] = (
    ("Tatarsky", "Vengerovsky", "Kuibyshevsky"),
    ("Bolotninsky",),
)

#: Columns of ``treatments.parquet`` (as the review store's treatment record gives them).
TREATMENT_COLUMNS: tuple[str, ...] = (
    "family_id",
    "district",
    "flag_id",
    "run_id",
    "decided_at",
    "outreach_started_at",
    "outcome",
)

#: Columns of ``ranks.parquet``: one row per family screened in each run.
RANK_COLUMNS: tuple[str, ...] = (
    "run_id",
    "as_of",
    "family_id",
    "district",
    "score",
    "rank_in_district",
    "capacity",
    "eligible",
    "flagged",
    "adopted",
)


def rollout_schedule(
    region: str,
    waves: Sequence[Sequence[str]] = NOVOSIBIRSK_PILOTS,
    *,
    first: int = 2,
    gap: int = 2,
) -> dict[str, int]:
    """Quarter (0-based) at which each district of a region pack starts outreach.

    Parameters
    ----------
    region : str
        A region pack (:func:`risk.regions.load_region`); district codes come from it.
    waves : sequence of sequences of str
        Districts of each wave by the start of their English name; the districts in no wave
        form a last wave. ``()`` puts every district in one wave.
    first, gap : int
        Quarter of the first wave, and quarters between waves.

    Examples
    --------
    >>> plan = rollout_schedule("novosibirsk")
    >>> sorted(set(plan.values())), sum(q == 2 for q in plan.values())
    ([2, 4, 6], 3)
    """
    pack = load_region(region)
    names = {d.code: d.name_en for d in pack.districts}
    plan: dict[str, int] = {}
    for i, wave in enumerate(waves):
        for prefix in wave:
            codes = [c for c, n in names.items() if n.startswith(prefix)]
            if len(codes) != 1:
                raise InputError(f"rollout: {prefix!r} names {len(codes)} districts of {region}")
            plan[codes[0]] = first + i * gap
    last = first + len(waves) * gap
    return {code: plan.get(code, last) for code in names}


@dataclass(frozen=True)
class Simulation:
    """What :func:`simulate_outreach` produced.

    Attributes
    ----------
    records : features.Records
    truth : risk.synth.Truth
        With ``potential`` (outcomes with and without outreach).
    treatments : pandas.DataFrame
        :data:`TREATMENT_COLUMNS`: every offer, its decision and the start of outreach.
    ranks : pandas.DataFrame
        :data:`RANK_COLUMNS`.
    rollout : dict of str to int
        Quarter (index into the runs) at which each district started.
    """

    records: Records
    truth: Truth
    treatments: pd.DataFrame
    ranks: pd.DataFrame
    rollout: dict[str, int]


def simulate_outreach(
    n_families: int,
    seed: int = 0,
    *,
    region: str = "novosibirsk",
    quarters: int = 8,
    rollout: Mapping[str, int] | None = None,
    capacity_share: float = 0.05,
    acceptance: float = 0.7,
    outreach_effect: float = 0.3,
    effect_months: int = 12,
    score_noise: float = 0.3,
) -> Simulation:
    """Run the outreach loop on a synthetic region for ``quarters`` quarters.

    Parameters
    ----------
    n_families : int
        Size of the synthetic population.
    seed : int
        Seed of the world, of the acceptance draws and of the score noise.
    region : str
        Region pack and synthetic profile (``novgorod`` or ``novosibirsk``).
    quarters : int
        Scoring runs, one per quarter from the first as-of date (at most 16).
    rollout : mapping of district code to int, optional
        Quarter at which each district starts outreach; districts left out never start.
        Default: every district from the first quarter.
    capacity_share : float
        Each district's capacity per quarter as a share of its first screening population
        (the pack's capacities are for the full region; at least 1). The pack's minimum score
        applies.
    acceptance : float
        Probability that an offered family accepts support.
    outreach_effect, effect_months
        As in :class:`risk.synth.SynthConfig`.
    score_noise : float
        Standard deviation of normal noise added to the oracle's log-odds, a stand-in for a
        model's error (0: the oracle itself, whose scores take few distinct values and so tie
        at the cut-off).

    Returns
    -------
    Simulation

    Examples
    --------
    >>> sim = simulate_outreach(600, seed=1, quarters=2)
    >>> sorted(sim.ranks["run_id"].unique())
    ['q00', 'q01']
    """
    dates = as_of_dates("2020-01-01", "2025-12-31")
    if not 1 <= quarters <= len(dates):
        raise InputError(f"quarters must be between 1 and {len(dates)}; got {quarters}")
    if not 0.0 <= acceptance <= 1.0 or not 0.0 < capacity_share <= 1.0:
        raise InputError(
            f"acceptance must be in [0, 1] and capacity share in (0, 1]; got {acceptance}, "
            f"{capacity_share}"
        )
    pack = load_region(region)
    plan = dict(rollout) if rollout is not None else dict.fromkeys(pack.district_codes, 0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 15]))
    world = World(
        SynthConfig(
            n_families,
            seed,
            region,
            outreach_effect=outreach_effect,
            effect_months=effect_months,
        )
    )
    capacity: Capacity | None = None
    runs, offers = [], []
    for q, as_of in enumerate(dates[:quarters]):
        world.advance(as_of)
        pop = world.population()
        logit = np.log(pop["p_true"] / (1 - pop["p_true"]))
        score = 1 / (1 + np.exp(-(logit + score_noise * rng.standard_normal(len(pop)))))
        if capacity is None:
            sizes = pop["district"].value_counts()
            capacity = Capacity(
                default=1,
                per_district={
                    str(d): max(1, round(capacity_share * int(n))) for d, n in sizes.items()
                },
                min_score=pack.capacity.min_score,
            )
        eligible = ~pop["under_outreach"].to_numpy()
        start = pop["district"].map(lambda d: plan.get(str(d), quarters)).to_numpy()
        adopted = start <= q
        ranked = pop[eligible]
        flags = np.zeros(len(pop), dtype=bool)
        flags[eligible] = flag_mask(
            score[eligible], ranked["district"], ranked["family_id"], capacity
        )
        run_id = f"q{q:02d}"
        frame = pd.DataFrame(
            {
                "run_id": run_id,
                "as_of": as_of,
                "family_id": pop["family_id"],
                "district": pop["district"],
                "score": score,
                "rank_in_district": _ranks(score, pop, eligible),
                "capacity": pop["district"].map(capacity.for_district).astype("int64"),
                "eligible": eligible,
                "flagged": flags,
                "adopted": adopted,
            }
        )
        runs.append(frame)
        offered = frame[flags & adopted]
        accepted = rng.random(len(offered)) < acceptance
        world.treat(offered["family_id"][accepted], as_of)
        offers.append(
            pd.DataFrame(
                {
                    "family_id": offered["family_id"].to_numpy(),
                    "district": offered["district"].to_numpy(),
                    "flag_id": [f"{run_id}:{f}" for f in offered["family_id"]],
                    "run_id": run_id,
                    "decided_at": as_of,
                    "outreach_started_at": _started(accepted, as_of),
                    "outcome": np.where(accepted, "accepted", "declined"),
                }
            )
        )
    records, truth = world.finish()
    treatments = pd.concat(offers, ignore_index=True)[list(TREATMENT_COLUMNS)]
    treatments["decided_at"] = treatments["decided_at"].astype("datetime64[s]")
    ranks = pd.concat(runs, ignore_index=True)[list(RANK_COLUMNS)]
    ranks["as_of"] = ranks["as_of"].astype("datetime64[s]")
    return Simulation(records, truth, treatments, ranks, plan)


def _started(accepted: np.ndarray, as_of: pd.Timestamp) -> np.ndarray:
    started = np.full(len(accepted), np.datetime64("NaT"), dtype="datetime64[s]")
    started[accepted] = np.datetime64(as_of.date(), "s")
    return started


def _ranks(score: np.ndarray, pop: pd.DataFrame, eligible: np.ndarray) -> np.ndarray:
    # Rank among the eligible of the district (1 = highest; ties by family id), 0 if not ranked.
    frame = pd.DataFrame({"s": -score, "f": pop["family_id"], "d": pop["district"]})[eligible]
    order = frame.sort_values(["d", "s", "f"])
    rank = order.groupby("d", sort=False).cumcount() + 1
    out = np.zeros(len(pop), dtype=np.int64)
    out[order.index.to_numpy()] = rank.to_numpy()
    return out


def write_simulation(sim: Simulation, out: str | Path) -> Path:
    """Write the records, truth, ``treatments.parquet``, ``ranks.parquet`` and the rollout."""
    path = write_population(sim.records, sim.truth, out)
    write_table(sim.treatments, path / "treatments.parquet")
    write_table(sim.ranks, path / "ranks.parquet")
    rollout = pd.DataFrame(
        {"district": list(sim.rollout), "start_quarter": list(sim.rollout.values())}
    )
    write_table(rollout, path / "rollout.parquet")
    return path


def read_simulation(folder: str | Path) -> Simulation:
    """Read what :func:`write_simulation` wrote (the truth's potential outcomes if present).

    Raises
    ------
    InputError
        ``treatments.parquet`` or ``ranks.parquet`` is missing.
    """
    path = Path(folder)
    for name in ("treatments.parquet", "ranks.parquet"):
        if not (path / name).exists():
            raise InputError(f"{path}: {name} is missing (see docs/evaluation.md)")
    records = load_records(path)
    truth_dir = path / "truth"
    potential = truth_dir / "potential_outcomes.parquet"
    manifest_file = path / "manifest.json"
    truth = Truth(
        manifest=json.loads(manifest_file.read_text(encoding="utf-8"))
        if manifest_file.exists()
        else {},
        families=pd.read_parquet(truth_dir / "families.parquet"),
        snapshots=pd.read_parquet(truth_dir / "snapshots.parquet"),
        potential=pd.read_parquet(potential)
        if potential.exists()
        else pd.DataFrame(columns=list(POTENTIAL)),
    )
    rollout_file = path / "rollout.parquet"
    rollout = (
        dict(pd.read_parquet(rollout_file).itertuples(index=False, name=None))
        if rollout_file.exists()
        else {}
    )
    return Simulation(
        records,
        truth,
        pd.read_parquet(path / "treatments.parquet"),
        pd.read_parquet(path / "ranks.parquet"),
        {str(k): int(v) for k, v in rollout.items()},
    )
