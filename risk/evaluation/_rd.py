"""Regression discontinuity at the capacity cut-off (pure: DataFrames in, results out).

In each district and scoring run, the families ranked just inside capacity are offered support
and those just outside are not. The running variable is the score's log-odds minus the cut-off
(midway between the lowest flagged and the highest unflagged eligible family), so flagged
families sit right of 0; districts and runs are pooled. Estimation is rdrobust's local-linear
robust bias-corrected RD (Calonico, Cattaneo and Titiunik), sharp on the offer and fuzzy on
acceptance; rddensity tests for manipulation of the running variable at the cut-off.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd

from features import InputError
from risk.evaluation._estimate import Estimate

RD_ASSUMPTIONS = (
    "Families just inside and just outside capacity are alike in everything but the offer: "
    "the expected outcome without outreach is continuous in the score at the cut-off.",
    "Nobody can move their score across the cut-off (checked: density test at the cut-off).",
    "The estimate is local: it holds for families near the cut-off, not for the highest-risk "
    "families flagged first. Pooling runs assumes the effect at the cut-off is alike across "
    "districts and quarters.",
    "Fuzzy design (effect of accepted support): the offer changes the outcome only through "
    "acceptance, and nobody takes up support because they were not offered it.",
)


def rd_frame(
    ranks: pd.DataFrame,
    treatments: pd.DataFrame,
    outcomes: pd.DataFrame,
) -> pd.DataFrame:
    """Assemble the pooled RD sample: one row per eligible family and run in adopted districts.

    Parameters
    ----------
    ranks : pandas.DataFrame
        ``run_id, as_of, family_id, district, score, rank_in_district, capacity, eligible,
        flagged, adopted``.
    treatments : pandas.DataFrame
        ``family_id, run_id, outreach_started_at`` (NaT when support was declined).
    outcomes : pandas.DataFrame
        ``family_id, as_of`` and outcome columns (e.g. ``label``, ``distress``).

    Returns
    -------
    pandas.DataFrame
        ``x`` (log-odds minus the cut-off), ``offered``, ``accepted``, ``cell`` (run and
        district), the outcome columns and ``family_id``.
    """
    needed = {"run_id", "as_of", "family_id", "district", "score", "eligible", "flagged"}
    missing = (needed | {"rank_in_district", "capacity"}) - set(ranks.columns)
    if missing:
        raise InputError(f"ranks lacks columns {', '.join(sorted(missing))}")
    use = ranks[ranks["eligible"] & ranks.get("adopted", True)].copy()
    score = use["score"].clip(1e-9, 1 - 1e-9)
    use["logit"] = np.log(score / (1 - score))
    cell = use["run_id"].astype(str) + "|" + use["district"].astype(str)
    use["cell"] = cell
    low_in = use[use["flagged"]].groupby("cell")["logit"].min()
    high_out = use[~use["flagged"]].groupby("cell")["logit"].max()
    cut = ((low_in + high_out) / 2).dropna()
    use = use[use["cell"].isin(cut.index)]
    use["x"] = use["logit"] - use["cell"].map(cut)
    use["offered"] = use["flagged"].astype(int)
    took = treatments.loc[treatments["outreach_started_at"].notna(), ["family_id", "run_id"]]
    key = use["run_id"].astype(str) + "|" + use["family_id"].astype(str)
    use["accepted"] = key.isin(set(took["run_id"].astype(str) + "|" + took["family_id"])).astype(
        int
    )
    merged = use.merge(outcomes, on=["family_id", "as_of"], how="inner")
    return merged.reset_index(drop=True)


def rd_estimate(
    frame: pd.DataFrame,
    outcome: str,
    *,
    fuzzy: bool = False,
    truth_outcome: str | None = None,
) -> Estimate:
    """Robust bias-corrected RD of ``outcome`` at ``x = 0`` (rdrobust), pooled.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`rd_frame`.
    outcome : str
        Outcome column.
    fuzzy : bool
        Effect of accepted support (acceptance instrumented by the offer) instead of the offer.
    truth_outcome : str, optional
        Column holding ``outcome`` with outreach minus without (synthetic data): the same
        local-linear fit, in the same bandwidth, on that difference is reported as the truth.

    Returns
    -------
    Estimate
        The bias-corrected estimate and robust 95% interval; ``checks`` has the bandwidth, the
        density test's p-value and (fuzzy) the first-stage jump in acceptance.
    """
    from rdrobust import rdrobust

    y = frame[outcome].to_numpy(dtype=float)
    x = frame["x"].to_numpy(dtype=float)
    cluster = pd.factorize(frame["family_id"])[0]
    if (x > 0).sum() < 20 or (x < 0).sum() < 20:
        raise InputError(
            f"regression discontinuity needs at least 20 families on each side of the cut-off; "
            f"got {(x > 0).sum()} flagged and {(x < 0).sum()} not"
        )
    treat = frame["accepted"].to_numpy(dtype=float) if fuzzy else None
    # rdrobust prints notes (e.g. on mass points) to stdout: keep them out of the command's output.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        fit = rdrobust(y, x, c=0.0, fuzzy=treat, cluster=cluster)
        h = float(fit.bws.iloc[0, 0])
        truth = None
        if truth_outcome is not None:
            d = frame[truth_outcome].to_numpy(dtype=float)
            true_fit = rdrobust(d, x, c=0.0, fuzzy=treat, h=h, cluster=cluster)
            truth = float(true_fit.coef.iloc[0, 0])
    ci = fit.ci.loc["Robust"]
    checks = {"bandwidth": h, "n_left": float(fit.N_h[0]), "n_right": float(fit.N_h[1])}
    if fuzzy:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            first = rdrobust(treat, x, c=0.0, h=h, cluster=cluster)
        checks["first_stage"] = float(first.coef.iloc[0, 0])
    checks["density_p"] = density_test(x)
    return Estimate(
        design="RD, fuzzy (accepted support)" if fuzzy else "RD, sharp (offer)",
        outcome=outcome,
        estimate=float(fit.coef.loc["Bias-Corrected"].iloc[0]),
        ci_low=float(ci.iloc[0]),
        ci_high=float(ci.iloc[1]),
        n=int(fit.N_h[0] + fit.N_h[1]),
        truth=truth,
        assumptions=RD_ASSUMPTIONS if fuzzy else RD_ASSUMPTIONS[:3],
        checks=checks,
    )


def density_test(x: np.ndarray) -> float:
    """P-value of rddensity's test that the running variable's density is continuous at 0."""
    from rddensity import rddensity

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        fit = rddensity(X=np.asarray(x, dtype=float), c=0.0)
    p = float(fit.test["p_jk"])
    return p


def rd_bins(frame: pd.DataFrame, outcome: str, bins: int = 20, span: float = 1.5) -> pd.DataFrame:
    """Mean outcome in equal-width bins of ``x`` on each side of the cut-off (for the RD plot)."""
    use = frame[frame["x"].abs() <= span]
    edges = np.linspace(-span, span, 2 * bins + 1)
    cut = pd.cut(use["x"].to_numpy(), list(edges), include_lowest=True)
    grouped = use.groupby(pd.Series(cut, index=use.index), observed=True)[outcome].agg(
        ["mean", "size"]
    )
    grouped["x"] = [iv.mid for iv in grouped.index]
    return grouped.reset_index(drop=True)
