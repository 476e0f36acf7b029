"""Where the gap between the model and the oracle comes from.

Trains the configured model three ways on the same temporal split and test snapshot:

1. on the records' features, as in production;
2. on the records' features plus the true hidden state at the as-of date (distress level and
   stressors, from ``truth/snapshots.parquet``) and the excluded attributes;
3. the oracle itself (``p_true``).

(2) − (1) is what the records cannot reveal; oracle − (2) is what the model and a finite training
set leave on the table. Run: ``python -m bench.oracle_gap --data DIR [--results bench/RESULTS.md]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench._util import append_section, machine


def main(argv: list[str] | None = None) -> dict[str, float]:
    from features import load_records
    from risk import _latent as lat
    from risk._metrics import roc_auc
    from training._config import load_config
    from training._data import (
        labelled_snapshots,
        last_labelled_date,
        load_truth,
        quarterly_dates,
        temporal_split,
    )
    from training._fit import fit_lightgbm, model_features

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    cfg = load_config()
    records = load_records(args.data)
    ts, tf = load_truth(args.data)
    assert ts is not None and tf is not None, "needs a synthetic population with truth/"
    last = last_labelled_date(records, cfg.snapshots.first_as_of, cfg.model.horizon_days)
    split = temporal_split(quarterly_dates(cfg.snapshots.first_as_of, last), 365)
    snap = labelled_snapshots(
        records,
        [*split.train, split.validation, split.test],
        horizon_days=365,
        lookback_days=cfg.model.lookback_days,
        truth_snapshots=ts,
    )
    X = snap.X.copy()
    key = ts.set_index(["as_of", "family_id"])["hidden_state"]
    state = key.reindex(
        pd.MultiIndex.from_arrays(
            [
                pd.DatetimeIndex(X.index.get_level_values("as_of")).astype("datetime64[s]"),
                X.index.get_level_values("family_id"),
            ]
        )
    ).to_numpy()
    parts = lat.decode(state.astype(np.int64))
    hidden = [f"hidden_{k}" for k in parts]
    for k, v in parts.items():
        X[f"hidden_{k}"] = v
    covs = tf.set_index("family_id")
    for c in ("low_income", "disabled_child"):
        X[f"hidden_cov_{c}"] = covs[c].reindex(X.index.get_level_values("family_id")).to_numpy()
    hidden += ["hidden_cov_low_income", "hidden_cov_disabled_child"]
    as_of = X.index.get_level_values("as_of")
    tr = np.asarray(as_of.isin(pd.DatetimeIndex(split.train)))
    va = np.asarray(as_of == split.validation)
    te = np.asarray(as_of == split.test)
    y = snap.y.to_numpy()
    from risk._model import Capacity

    common = dict(
        params=cfg.lightgbm.params,
        num_boost_round=cfg.lightgbm.num_boost_round,
        early_stopping_rounds=cfg.lightgbm.early_stopping_rounds,
        horizon_days=365,
        lookback_days=cfg.model.lookback_days,
        capacity=Capacity(),
        name="gap",
    )
    feats = model_features(cfg.features.exclude)
    base = fit_lightgbm(X[tr], y[tr], X[va], y[va], features=feats, **common).model
    informed = fit_lightgbm(X[tr], y[tr], X[va], y[va], features=(*feats, *hidden), **common).model
    y_te = y[te]
    assert snap.truth is not None
    out = {
        "families": float(records.n_families),
        "test_rows": float(te.sum()),
        "records_model_auc": roc_auc(y_te, base.predict_proba(X[te])),
        "informed_model_auc": roc_auc(y_te, informed.predict_proba(X[te])),
        "oracle_auc": roc_auc(y_te, snap.truth["p_true"].to_numpy()[te]),
        "seconds": time.perf_counter() - start,
    }
    out["gap_total"] = out["oracle_auc"] - out["records_model_auc"]
    out["gap_absent_from_records"] = out["informed_model_auc"] - out["records_model_auc"]
    out["gap_model_and_data"] = out["oracle_auc"] - out["informed_model_auc"]
    for k, v in out.items():
        print(f"{k:<28} {v:10.4f}")
    if args.results:
        cmd = f"python -m bench.oracle_gap --data {args.data}"
        body = "\n".join(
            [
                f"Command: `{cmd}`  ",
                f"Machine: {machine()}",
                "",
                "| model on the test snapshot | ROC AUC |",
                "|---|---:|",
                f"| records' features (production model) | {out['records_model_auc']:.4f} |",
                f"| records' features + true hidden state + excluded attributes "
                f"| {out['informed_model_auc']:.4f} |",
                f"| oracle (`p_true`) | {out['oracle_auc']:.4f} |",
                "",
                f"Gap to the oracle {out['gap_total']:.4f}: "
                f"{out['gap_absent_from_records']:.4f} is information absent from the records "
                f"(the same model gains it when told the hidden state), "
                f"{out['gap_model_and_data']:.4f} is the model and the finite training set.",
            ]
        )
        append_section(args.results, "Oracle gap", body)
    return out


if __name__ == "__main__":
    main()
