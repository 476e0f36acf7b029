"""What the generator knows: the truth's snapshots, the manifest, and writing a population.

For each quarterly as-of date and each family in the screening population, the snapshot holds
the probability the label was drawn with (``p_true``), the label and the true ``distress``;
the manifest holds the population's figures against the profile's targets and the oracle's
AUC and Brier.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from features import Records, write_table
from risk import _latent as lat
from risk._profiles import Profile
from risk._synth_population import POTENTIAL, SynthConfig, Truth, _Population, as_of_dates


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
        idx = screening_population(pop, t, recent, minors_t)
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


def screening_population(
    pop: _Population, t: np.datetime64, recent: np.ndarray, minors: np.ndarray | None = None
) -> np.ndarray:
    """Return the families screened at ``t``: registered, with a minor, no recent outcome."""
    minors_t = pop.minor_counts(t) if minors is None else minors
    return np.flatnonzero((pop.registered_on < t) & (minors_t > 0) & ~recent)


Path_ = tuple[np.ndarray, np.ndarray, np.ndarray]


def _potential(
    snapshots: pd.DataFrame,
    index: pd.Index,
    treated: np.ndarray,
    months: np.ndarray,
    factual: Path_,
    without: Path_,
) -> pd.DataFrame:
    """Potential outcomes of the treated families at each of their snapshots.

    ``factual`` and ``without`` are each ``(state history, outcome family, outcome month)`` of
    one path. Outcome dates fall on days 2..28 of their month, so the label window
    ``(as_of, as_of + 365 days]`` is the 12 months from the as-of month.
    """
    rows = snapshots[treated[index.get_indexer(pd.Index(snapshots["family_id"]))]]
    fam = index.get_indexer(pd.Index(rows["family_id"]))
    as_of = rows["as_of"].to_numpy().astype("datetime64[M]")
    m = (as_of - months[0].astype("datetime64[M]")).astype(np.int64)
    n_months = factual[0].shape[0]
    out: dict[str, object] = {
        "family_id": rows["family_id"].to_numpy(),
        "as_of": rows["as_of"].to_numpy(),
    }
    for name, (history, of, om) in (("with", factual), ("without", without)):
        events = np.zeros((n_months + 12, len(index)), dtype=bool)
        events[om, of] = True
        crisis = np.zeros((n_months + 12, len(index)), dtype=bool)
        crisis[:n_months] = history % lat.N_LEVELS == lat.CRISIS
        for suffix, span in (("", 12), ("_q", 3)):
            window = m[None, :] + np.arange(span)[:, None]
            out[f"label{suffix}_{name}"] = events[window, fam[None, :]].any(axis=0).astype(np.int8)
            out[f"distress{suffix}_{name}"] = (
                crisis[window, fam[None, :]].any(axis=0).astype(np.int8)
            )
    return pd.DataFrame(out)[list(POTENTIAL)].reset_index(drop=True)


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
        # Outreach parameters are the manifest's "outreach" section, written only when some
        # family was treated: without outreach the output is the plain generator's, bit for bit.
        "parameters": {
            k: v for k, v in asdict(cfg).items() if k not in ("outreach_effect", "effect_months")
        },
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
    if len(truth.potential):
        write_table(truth.potential, tmp / "potential_outcomes.parquet")
    truth_dir.mkdir(exist_ok=True)
    for f in tmp.iterdir():
        f.replace(truth_dir / f.name)
    tmp.rmdir()
    (final / "manifest.json").write_text(
        json.dumps(truth.manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return final
