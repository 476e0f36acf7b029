"""Run every design on one simulation's (or region's) data and collect the estimates (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.evaluation._did import DidResult, RolloutNotEstimable, callaway_santanna
from risk.evaluation._estimate import Estimate
from risk.evaluation._rd import rd_bins, rd_estimate, rd_frame
from risk.evaluation._simulate import Simulation

NAIVE_ASSUMPTIONS = (
    "CONFOUNDED: families are offered support because their score is high, so they differ "
    "from the next families in line (not flagged, ranked within twice the capacity) in their "
    "risk without outreach. This comparison mixes the "
    "effect with that difference; it is shown only to explain why the designs above exist.",
)

#: Outcomes, their labels and the potential-outcome columns that give their truth.
OUTCOMES = {
    "label": ("registered outcome within 12 months", "label"),
    "distress": ("true distress within 12 months (synthetic truth)", "distress"),
}


@dataclass(frozen=True)
class Evaluation:
    """Estimates of every design, with the data behind the plots."""

    estimates: tuple[Estimate, ...]
    #: None when the rollout gives no comparison (all districts started at once).
    did: DidResult | None
    rd_bins: pd.DataFrame
    #: The simulation's hazard reduction (synthetic data with outreach), else None.
    outreach_effect: float | None


def outcome_frame(sim: Simulation) -> pd.DataFrame:
    """Per family and as-of date: 12-month outcomes and (synthetic) their effect of outreach."""
    snap = sim.truth.snapshots[["family_id", "as_of", "label", "distress"]]
    pot = sim.truth.potential
    out = snap.merge(pot, on=["family_id", "as_of"], how="left")
    frame = snap.copy()
    for name in ("label", "distress"):
        with_ = out[f"{name}_with"].astype(float)
        without = out[f"{name}_without"].astype(float)
        # Families outreach never reached have identical paths: a difference of 0.
        frame[f"d_{name}"] = (with_ - without).fillna(0.0).to_numpy()
    return frame


def did_panel(sim: Simulation) -> pd.DataFrame:
    """Families screened each quarter, their district's start quarter and next-quarter outcome."""
    ranks = sim.ranks
    runs = sorted(ranks["run_id"].unique())
    period = ranks["run_id"].map({r: i for i, r in enumerate(runs)})
    group = ranks["district"].map(lambda d: sim.rollout.get(str(d), len(runs))).astype("int64")
    outcomes = sim.records.outcomes
    as_of = ranks["as_of"].astype("datetime64[s]")
    end = as_of + pd.DateOffset(months=3)
    first = outcomes.merge(
        pd.DataFrame({"family_id": ranks["family_id"], "row": np.arange(len(ranks))}),
        on="family_id",
    )
    t0 = as_of.to_numpy()[first["row"]]
    t1 = end.to_numpy()[first["row"]]
    day = first["outcome_date"].to_numpy()
    hit = first["row"][(day > t0) & (day <= t1)].unique()
    y = np.zeros(len(ranks))
    y[hit] = 1.0
    pot = sim.truth.potential
    d = ranks[["family_id", "as_of"]].merge(pot, on=["family_id", "as_of"], how="left")
    dy = (d["label_q_with"].astype(float) - d["label_q_without"].astype(float)).fillna(0.0)
    return pd.DataFrame(
        {
            "unit": ranks["family_id"].to_numpy(),
            "period": period.to_numpy(),
            "group": group.to_numpy(),
            "label_q": y,
            "d_label_q": dy.to_numpy(),
        }
    )


def naive_comparison(frame: pd.DataFrame, outcome: str) -> Estimate:
    """Offered families against the next in line, not flagged (descriptive, confounded).

    The comparison group is the families of the same districts and runs that were not flagged
    but ranked within twice the capacity: the nearest thing to "comparable" that needs no
    design, and still less at risk than those offered.
    """
    next_in_line = (frame["offered"] == 0) & (frame["rank_in_district"] <= 2 * frame["capacity"])
    a = frame.loc[frame["offered"] == 1, outcome].to_numpy(dtype=float)
    b = frame.loc[next_in_line, outcome].to_numpy(dtype=float)
    diff = a.mean() - b.mean()
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    truth = frame.loc[frame["offered"] == 1, f"d_{outcome}"].mean()
    return Estimate(
        design="Offered vs not flagged (descriptive, confounded)",
        outcome=outcome,
        estimate=float(diff),
        ci_low=float(diff - 1.96 * se),
        ci_high=float(diff + 1.96 * se),
        n=len(a) + len(b),
        truth=float(truth),
        assumptions=NAIVE_ASSUMPTIONS,
    )


def evaluate(sim: Simulation, *, seed: int = 0, n_boot: int = 299) -> Evaluation:
    """Estimate the effect of outreach by every design.

    Parameters
    ----------
    sim : Simulation
        Records, truth, treatments, ranks and rollout (:func:`read_simulation`).
    seed, n_boot : int
        Seed and draws of the staggered-rollout bootstrap.

    Returns
    -------
    Evaluation
        RD (sharp and fuzzy) on each outcome, the staggered-rollout DiD on next-quarter
        registered outcomes, and the confounded comparison; each with its truth when the data
        are synthetic.
    """
    outcomes = outcome_frame(sim)
    frame = rd_frame(sim.ranks, sim.treatments, outcomes)
    estimates = []
    for name in OUTCOMES:
        for fuzzy in (False, True):
            estimates.append(rd_estimate(frame, name, fuzzy=fuzzy, truth_outcome=f"d_{name}"))
    did: DidResult | None
    try:
        did = callaway_santanna(
            did_panel(sim), "label_q", truth_outcome="d_label_q", n_boot=n_boot, seed=seed
        )
    except RolloutNotEstimable:
        did = None  # the regression discontinuity still stands; the report says why
    if did is not None:
        estimates.append(did.overall)
    estimates.extend(naive_comparison(frame, name) for name in OUTCOMES)
    outreach = sim.truth.manifest.get("outreach", {})
    return Evaluation(
        tuple(estimates), did, rd_bins(frame, "label"), outreach.get("outreach_effect")
    )
