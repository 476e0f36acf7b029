"""The ``risk simulate`` command: the outreach loop through the real review store.

Quarter by quarter on a synthetic region: score with the current model, flag within capacity
(the one flag rule of :meth:`risk.Screener.screen`), let simulated specialists open each card
and decide through :class:`risk.review.ReviewQueue`, let simulated families accept or decline
(recorded as follow-up steps), start outreach in the world for those who accepted, advance the
world, and retrain and promote through the real gates when asked. It composes ``risk``,
``training`` and the review store, so it lives in the composition root.

The store keeps real timestamps (when things were recorded); the simulated dates of each run
are kept beside it, and ``treatments.parquet`` gives them: outreach starts on its run's as-of
date. Its output is what ``risk evaluate`` reads (``risk.evaluation.read_simulation``).
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer

from features import InputError, Records
from risk.commands import user_errors

if TYPE_CHECKING:
    from risk import RiskModel
    from risk.review import ReviewQueue, User
    from risk.synth import World

#: First quarter of the loop: the records before it are the pre-period the first model learns.
LOOP_START = pd.Timestamp("2024-01-01")

AGREE = (
    "The records show a pattern of recent difficulties that I also see in the family file; "
    "I agree that support should be offered and will contact the family this week."
)
DISAGREE = (
    "I reviewed the family file and the recent records; the family is already coping with "
    "help from relatives and the school, so no outreach is needed now."
)
ALREADY = (
    "The family is already receiving support through an open follow-up, so no new outreach "
    "is needed in this period."
)
CLOSED_DECLINED = "The family said they do not want help at this time; the offer stays open."


@dataclass(frozen=True)
class SimulateOptions:
    """Arguments of :func:`run_simulation` (those of ``risk simulate``)."""

    region: str = "novosibirsk"
    quarters: int = 4
    families: int = 5000
    seed: int = 0
    outreach_effect: float = 0.3
    effect_months: int = 12
    agreement: float = 0.9
    acceptance: float = 0.6
    rollout: str = "all"
    retrain_every: int | None = None
    treatment: str = "censor"
    n_boot: int = 20

    def validate(self) -> SimulateOptions:
        """Refuse out-of-range arguments (:class:`features.InputError`)."""
        if not 1 <= self.quarters <= 12:
            raise InputError(f"--quarters must be between 1 and 12; got {self.quarters}")
        for name in ("agreement", "acceptance"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"--{name} must be in [0, 1]; got {getattr(self, name)}")
        if self.rollout not in ("all", "pilots"):
            raise InputError(f"--rollout must be 'all' or 'pilots'; got {self.rollout!r}")
        if self.retrain_every is not None and self.retrain_every < 1:
            raise InputError(f"--retrain must be 'never' or k >= 1; got {self.retrain_every}")
        if self.treatment not in ("censor", "ignore"):
            raise InputError(f"--treatment must be 'censor' or 'ignore'; got {self.treatment!r}")
        return self


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`run_simulation` wrote and decided."""

    out: Path
    store_url: str
    tracking_uri: str
    run_dates: dict[str, pd.Timestamp]
    treated: pd.DataFrame  # family_id, as_of of every outreach started in the world
    model_versions: dict[str, str]  # run_id -> model version that scored it
    retrainings: tuple[dict[str, Any], ...]
    model: RiskModel


def rollout_plan(pack: Any, rollout: str, quarters: int) -> dict[str, int]:
    """Quarter at which each district of ``pack`` adopts: all at 0, or the pack's waves.

    With ``pilots`` the waves of the pack's ``[rollout]`` table start one quarter apart from
    quarter 0 and the districts in no wave come last.
    """
    codes = pack.district_codes
    if rollout == "all":
        return dict.fromkeys(codes, 0)
    if not pack.rollout:
        raise InputError(f"region pack {pack.code!r} has no [rollout] waves for --rollout pilots")
    plan = {code: i for i, wave in enumerate(pack.rollout) for code in wave}
    return {code: plan.get(code, len(pack.rollout)) for code in codes}


def records_until(world: World, date: pd.Timestamp) -> Records:
    """Return the records a region would hold on ``date`` (a copy of the world run on, cut)."""
    records, _ = copy.deepcopy(world).finish()
    fam = records.families[records.families["registered_on"] < date]
    keep = set(fam["family_id"])
    mem = records.members[
        records.members["family_id"].isin(keep) & (records.members["birth_date"] < date)
    ]
    ev = records.events
    member_ok = ev["member_id"].isna() | ev["member_id"].isin(set(mem["member_id"]))
    ev = ev[(ev["event_date"] < date) & ev["family_id"].isin(keep) & member_ok]
    out = records.outcomes[
        (records.outcomes["outcome_date"] < date) & records.outcomes["family_id"].isin(keep)
    ]
    return Records(
        families=fam.reset_index(drop=True),
        members=mem.reset_index(drop=True),
        events=ev.reset_index(drop=True),
        outcomes=out.reset_index(drop=True),
        extraction_date=date - pd.Timedelta(days=1),
    ).validate()


class _Adopted:
    """A screening as the queue sees it, with flags only in districts that have adopted."""

    def __init__(self, screening: Any, districts: set[str]) -> None:
        scores = screening.scores.copy()
        scores["flagged"] = scores["flagged"] & scores["district"].isin(districts)
        self._scores = scores
        ids = set(scores.loc[scores["flagged"], "family_id"])
        self._payloads = {k: v for k, v in screening.flag_payloads().items() if k in ids}

    @property
    def scores(self) -> pd.DataFrame:
        return self._scores

    def flag_payloads(self) -> Mapping[str, Mapping[str, Any]]:
        return self._payloads


def _specialists(queue: ReviewQueue, districts: Iterable[str]) -> dict[str, User]:
    from risk.review import UnknownItem

    users = {}
    for code in districts:
        name = f"sim.{code}"
        try:
            users[code] = queue.get_user(name)
        except UnknownItem:
            users[code] = queue.add_user(name, secrets.token_urlsafe(18), "specialist", [code])
    return users


def _review(
    queue: ReviewQueue,
    run_id: str,
    users: Mapping[str, User],
    under_outreach: set[str],
    rng: np.random.Generator,
    opts: SimulateOptions,
    catalog: Any,
) -> list[str]:
    """Decide every item of ``run_id`` as a specialist would; return the families who accepted."""
    accepted: list[str] = []
    today = datetime.now(UTC).date()
    items = queue.items(run_id=run_id)
    for flag_id, district in zip(
        items["flag_id"].astype("int64").tolist(), items["district"].astype(str), strict=True
    ):
        user = users[district]
        session = f"sim-{run_id}-{flag_id}"
        item = queue.item(flag_id, user, session=session)
        agree = rng.random() < opts.agreement
        if item.family_id in under_outreach or not agree:
            queue.record_decision(
                item.flag_id,
                user,
                "no_outreach_needed",
                ALREADY if item.family_id in under_outreach else DISAGREE,
                agrees_with_model=False,
                expected_version=item.version,
                session=session,
            )
            continue
        offered = [s["service_id"] for s in item.payload.get("services", [])][:2]
        if not offered:
            offered = list(catalog.for_district(item.district)["service_id"][:1])
        queue.record_decision(
            item.flag_id,
            user,
            "support_offered",
            AGREE,
            offered,
            agrees_with_model=True,
            expected_version=item.version,
            session=session,
            catalog=catalog,
        )
        fu = int(queue.follow_ups(flag_id=item.flag_id)["followup_id"].iloc[0])
        queue.record_contact(fu, user, on=today, channel="phone", reached=True)
        if rng.random() < opts.acceptance:
            for stage in ("accepted", "started"):
                queue.record_service(fu, user, offered[0], stage, on=today, catalog=catalog)
            accepted.append(item.family_id)
        else:
            queue.record_declined(fu, user, on=today, note=CLOSED_DECLINED)
            queue.close_follow_up(fu, user, "declined", CLOSED_DECLINED)
    return accepted


def simulated_treatments(queue: ReviewQueue, run_dates: Mapping[str, pd.Timestamp]) -> pd.DataFrame:
    """Return the store's treatment record on the simulated calendar (each run's as-of date).

    Columns of :data:`risk.evaluation.TREATMENT_COLUMNS`. Reaching a family starts outreach in
    the store's terms, but in the world only a family that accepted a service is helped: its
    ``outreach_started_at`` is its run's as-of date; a family that declined has none.
    """
    from risk.evaluation import TREATMENT_COLUMNS

    rec = queue.treatment_record()
    rec = rec[rec["run_id"].isin(list(run_dates))].copy()
    when = rec["run_id"].map(dict(run_dates)).astype("datetime64[s]")
    took = rec["outreach_started_at"].notna() & (rec["n_services_accepted"] > 0)
    rec["decided_at"] = when
    rec["outreach_started_at"] = when.where(took)
    rec["outcome"] = np.where(took, "accepted", "declined")
    return rec[list(TREATMENT_COLUMNS)].reset_index(drop=True)


def run_simulation(
    opts: SimulateOptions,
    out: Path,
    *,
    store: str | None = None,
    say: Callable[[str], None] = lambda _s: None,
) -> SimulationResult:
    """Run the loop and write records, truth, store, treatments, ranks and rollout to ``out``."""
    import mlflow

    from risk import Screener, ServiceCatalog
    from risk.evaluation import RANK_COLUMNS, Simulation, write_simulation
    from risk.regions import load_region
    from risk.review import ReviewQueue
    from risk.synth import SynthConfig, World
    from training import check_gates, load_config, log_training_run, promote, train

    opts = opts.validate()
    out.mkdir(parents=True, exist_ok=True)
    pack = load_region(opts.region)
    catalog = ServiceCatalog(pack.services)
    plan = rollout_plan(pack, opts.rollout, opts.quarters)
    dates = [LOOP_START + pd.DateOffset(months=3 * q) for q in range(opts.quarters)]
    # The truth needs a year after the last quarter for its outcomes with and without outreach.
    end = max(pd.Timestamp("2025-12-31"), dates[-1] + pd.DateOffset(years=2) - pd.Timedelta(days=1))
    world = World(
        SynthConfig(
            opts.families,
            opts.seed,
            opts.region,
            end=str(end.date()),
            outreach_effect=opts.outreach_effect,
            effect_months=opts.effect_months,
        )
    )
    cfg = replace(load_config(), treatment=opts.treatment)
    tracking = f"sqlite:///{(out / 'mlflow.db').resolve()}"
    mlflow.set_tracking_uri(tracking)
    if mlflow.get_experiment_by_name("family-distress") is None:
        mlflow.create_experiment(
            "family-distress", artifact_location=(out / "mlruns").resolve().as_uri()
        )
    store_url = store or f"sqlite:///{(out / 'review.db').resolve()}"
    queue = ReviewQueue(store_url)
    users = _specialists(queue, pack.district_codes)
    rng = np.random.default_rng(np.random.SeedSequence([opts.seed, 15, 1]))
    run_dates: dict[str, pd.Timestamp] = {}
    treated, ranks, versions, retrainings = [], [], {}, []
    model: RiskModel | None = None
    for q, as_of in enumerate(dates):
        world.advance(as_of)
        records = records_until(world, as_of)
        due = opts.retrain_every is not None and q > 0 and q % opts.retrain_every == 0
        if model is None or due:
            say(f"{as_of.date()}: training on the records to date ({cfg.treatment})")
            run = train(
                records,
                cfg,
                treatments=simulated_treatments(queue, run_dates),
                n_boot=opts.n_boot,
                compare_exclusions=False,
            )
            _, version = log_training_run(run, uri=tracking)
            gates = check_gates(run.metrics, run.evaluation.audit, cfg.promotion)
            passed = all(g.passed for g in gates)
            if passed:
                promote(version, tracking_uri=tracking, config=cfg.path)
            # The first model scores even if a gate refuses it: there is no other.
            if passed or model is None:
                model = run.model
            retrainings.append(
                {
                    "as_of": as_of,
                    "version": version,
                    "promoted": passed,
                    "failed_gates": [g.name for g in gates if not g.passed],
                    "treated_windows": run.metrics["treated_windows"],
                    "censored_windows": run.metrics["censored_windows"],
                    "treated_families": run.metrics["treated_families"],
                }
            )
        assert model is not None
        screening = Screener(model, catalog=catalog).screen(records, as_of, capacity=pack.capacity)
        pop = world.population()
        under = set(pop.loc[pop["under_outreach"], "family_id"])
        adopted = {d for d, start in plan.items() if start <= q}
        run_id = f"sim-{as_of.date()}"
        run_dates[run_id] = as_of
        versions[run_id] = str(model.version)
        queue.enqueue(_Adopted(screening, adopted), run_id)
        accepted = _review(queue, run_id, users, under, rng, opts, catalog)
        world.treat(accepted, as_of)
        treated.append(pd.DataFrame({"family_id": accepted, "as_of": as_of}))
        s = screening.scores
        ranks.append(
            pd.DataFrame(
                {
                    "run_id": run_id,
                    "as_of": as_of,
                    "family_id": s["family_id"].to_numpy(),
                    "district": s["district"].to_numpy(),
                    "score": s["score"].to_numpy(),
                    "rank_in_district": s["rank_in_district"].to_numpy(),
                    "capacity": s["district"].map(pack.capacity.for_district).astype("int64"),
                    "eligible": ~s["family_id"].isin(under).to_numpy(),
                    "flagged": s["flagged"].to_numpy(),
                    "adopted": s["district"].isin(adopted).to_numpy(),
                }
            )
        )
        say(
            f"{as_of.date()}: {int(s['flagged'].sum())} flagged, "
            f"{len(queue.items(run_id=run_id))} in the queue, {len(accepted)} accepted support"
        )
    final, truth = world.finish()
    rank_table = pd.concat(ranks, ignore_index=True)[list(RANK_COLUMNS)]
    rank_table["as_of"] = rank_table["as_of"].astype("datetime64[s]")
    sim = Simulation(final, truth, simulated_treatments(queue, run_dates), rank_table, plan)
    write_simulation(sim, out)
    queue.close()
    assert model is not None  # quarters >= 1: the first quarter trained one
    return SimulationResult(
        out=out,
        store_url=store_url,
        tracking_uri=tracking,
        run_dates=run_dates,
        treated=pd.concat(treated, ignore_index=True),
        model_versions=versions,
        retrainings=tuple(retrainings),
        model=model,
    )


def register(app: typer.Typer) -> None:
    """Add ``risk simulate`` (the ``simulate`` entry point of the ``risk.commands`` group)."""

    @app.command("simulate")
    @user_errors
    def simulate(
        out: Annotated[Path, typer.Option("--out", help="Folder for records, truth, stores.")],
        region: Annotated[str, typer.Option("--region", help="Region pack.")] = "novosibirsk",
        quarters: Annotated[int, typer.Option("--quarters", help="Quarters of outreach.")] = 4,
        families: Annotated[int, typer.Option("--families", help="Synthetic families.")] = 5000,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        outreach_effect: Annotated[
            float, typer.Option("--outreach-effect", help="Hazard cut of outreach (0: none).")
        ] = 0.3,
        effect_months: Annotated[int, typer.Option("--effect-months")] = 12,
        agreement: Annotated[
            float, typer.Option("--agreement", help="Chance a specialist agrees with a flag.")
        ] = 0.9,
        acceptance: Annotated[
            float, typer.Option("--acceptance", help="Chance a family accepts support.")
        ] = 0.6,
        rollout: Annotated[str, typer.Option("--rollout", help="all or pilots")] = "all",
        retrain: Annotated[
            str,
            typer.Option("--retrain", help="never, or K / every-K-quarters: retrain every K"),
        ] = "never",
        treatment: Annotated[
            str, typer.Option("--treatment", help="censor or ignore (the training's handling)")
        ] = "censor",
        store: Annotated[
            str | None, typer.Option("--store", help="Review store URL (default: in --out).")
        ] = None,
    ) -> None:
        """Run the outreach loop quarter by quarter through the review store."""
        import logging
        import os

        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        every = re.fullmatch(r"(?:every-)?(\d+)(?:-quarters?)?", retrain)
        if retrain != "never" and every is None:
            raise InputError(f"--retrain must be 'never', K or every-K-quarters; got {retrain!r}")
        opts = SimulateOptions(
            region=region,
            quarters=quarters,
            families=families,
            seed=seed,
            outreach_effect=outreach_effect,
            effect_months=effect_months,
            agreement=agreement,
            acceptance=acceptance,
            rollout=rollout,
            retrain_every=None if every is None else int(every.group(1)),
            treatment=treatment,
        )
        result = run_simulation(opts, out, store=store, say=typer.echo)
        typer.echo(
            f"wrote {result.out}: {len(result.treated)} families started outreach over "
            f"{len(result.run_dates)} quarters; store {result.store_url}; "
            f"MLflow {result.tracking_uri}. Next: risk evaluate {result.out}"
        )
