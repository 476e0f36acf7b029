"""Screenings of the committed synthetic sample for the review app's tests: real and stand-in.

:func:`make_real_screening` trains a small calibrated LightGBM on the sample's truth snapshots
and screens with ``risk.Screener``: what the browser tests and the committed screenshots show.

:func:`make_screening` is a cheap stand-in for app logic (e.g. a 10,000-item queue): it
produces ``risk.review.ScreeningLike`` runs whose payloads are ``risk.FlagPayload`` (built with
its types and checked by ``risk.validate_payload``), with real record values from
``data/synthetic/sample``: feature values from ``features.build_features``, a timeline from the
family's events, composition from its members, services matched by ``risk``'s catalog. The
"model" is a fixed random linear one on standardised features, so contributions add up to the
log-odds exactly; it is not a model of anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import features
from risk import (
    FlagPayload,
    PayloadComposition,
    PayloadContribution,
    PayloadEvent,
    PayloadService,
    ServiceCatalog,
    load_catalog,
    validate_payload,
)
from risk.review import ReviewQueue, ScreeningLike
from tests.paths import REPO, SAMPLE

ROOT = REPO
AS_OF = "2025-06-30"
MODEL_NAME = "family_distress"
MODEL_VERSION = "3"
#: The stand-in model's lookback (the records a timeline shows).
LOOKBACK_DAYS = features.DEFAULT_LOOKBACK_DAYS
ADVISORY = "Advisory only: a person decides."


@dataclass(frozen=True)
class FakeScreening:
    """``scores`` and ``flag_payloads()``, as ``risk.review.ScreeningLike`` asks."""

    scores: pd.DataFrame
    payloads: dict[str, FlagPayload] = field(default_factory=dict)

    def flag_payloads(self) -> dict[str, FlagPayload]:
        return dict(self.payloads)


def load_sample() -> features.Records:
    return features.load_records(SAMPLE)


#: Truth snapshots the real model learns from (their 12-month outcomes end before ``AS_OF``).
TRAIN_DATES = ("2022-07-01", "2023-01-01", "2023-07-01", "2024-01-01")


def make_real_screening(records: features.Records, *, capacity: int = 12) -> Any:
    """Train a small calibrated model on the sample and screen it at ``AS_OF`` with ``risk``.

    LightGBM (40 rounds) on the risk features at ``TRAIN_DATES`` against the sample's truth
    labels, Platt scaling of its margin on the same snapshots; ``risk.Screener`` with the
    regional service catalog. Returns a ``risk.Screening``.
    """
    import lightgbm as lgb
    from sklearn.linear_model import LogisticRegression

    from risk import Calibration, Capacity, RiskModel, Screener

    snaps = features.build_snapshots(records, list(TRAIN_DATES))
    truth = pd.read_parquet(SAMPLE / "truth" / "snapshots.parquet")
    truth = truth.assign(as_of=pd.to_datetime(truth["as_of"]).astype("datetime64[s]"))
    label = truth.set_index(["as_of", "family_id"])["label"].reindex(snaps.index)
    names = tuple(
        f for f in features.risk_features() if not f.startswith("disabled") and f != "low_income"
    )
    x = snaps.loc[:, list(names)].to_numpy(dtype=np.float64)
    y = label.to_numpy(dtype=np.float64)
    params = {
        "objective": "binary", "max_depth": 4, "num_leaves": 15, "learning_rate": 0.1,
        "min_data_in_leaf": 20, "verbose": -1, "seed": 0, "deterministic": True,
        "num_threads": 1,
    }  # fmt: skip
    # The model definition's monotone constraints, as trained models have them: a problem
    # signal beyond the typical family's value never reads "lowers" on the card.
    from training import load_config
    from training._monotone import constraint_vector

    params["monotone_constraints"] = constraint_vector(names, load_config().lightgbm)
    booster = lgb.train(params, lgb.Dataset(x, y), 40)
    margin = np.asarray(booster.predict(x, raw_score=True)).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf).fit(margin, y)
    model = RiskModel(
        booster,
        names,
        Calibration(float(fit.intercept_[0]), float(fit.coef_[0, 0])),
        capacity=Capacity(default=capacity),
    ).with_reference(snaps.loc[:, list(names)])  # explained as trained models are
    return Screener(model, catalog=load_catalog()).screen(records, AS_OF)


def make_screening(
    records: features.Records,
    *,
    as_of: str = AS_OF,
    capacity: int = 20,
    seed: int = 0,
    catalog: ServiceCatalog | None = None,
    family_prefix: str = "",
) -> FakeScreening:
    """Score the sample's screening population at ``as_of``; flag the top ``capacity`` per district.

    ``family_prefix`` renames families (``P1-F000001``) so that several runs hold distinct
    families, e.g. to fill a queue with 10,000 items from the 2,000-family sample.
    """
    catalog = catalog if catalog is not None else load_catalog()
    frame = features.build_features(records, as_of)
    risk_cols = [
        n
        for n, spec in features.FEATURES.items()
        if spec.role == "risk" and n != "disabled_child" and not n.startswith("has_")
    ]
    x = frame[risk_cols].to_numpy(dtype=float)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.12, len(risk_cols))
    # Recency features: fewer days since a record means more risk.
    weights = np.where([c.endswith("_days_since") for c in risk_cols], -np.abs(weights), weights)
    contrib = (x - mean) / std * weights
    base = -3.3
    log_odds = base + contrib.sum(axis=1)
    score = 1.0 / (1.0 + np.exp(-log_odds))
    fam = frame.index.astype(str).to_numpy()
    fams = records.families.set_index("family_id").loc[fam]
    district = fams["district"].astype(str).to_numpy()
    scores = pd.DataFrame(
        {
            "family_id": pd.Series([family_prefix + f for f in fam], dtype="str"),
            "district": pd.Series(district, dtype="str"),
            "score": score,
            "log_odds": log_odds,
        }
    )
    scores["rank_in_district"] = (
        scores.groupby("district")["score"].rank(ascending=False, method="first").astype("int64")
    )
    scores["flagged"] = scores["rank_in_district"] <= capacity
    scores["tier"] = np.where(
        scores["rank_in_district"] <= max(1, capacity // 4),
        "priority",
        np.where(scores["flagged"], "support", "universal"),
    )
    scores["model_version"] = f"{MODEL_NAME}@{MODEL_VERSION}"
    scores["as_of"] = pd.Timestamp(as_of)
    scores["advisory"] = ADVISORY
    base_rate = float(score.mean())
    capacities = {d: capacity for d in np.unique(district)}

    t = pd.Timestamp(as_of)
    ev = records.events
    ev = ev[(ev["event_date"] < t) & (ev["event_date"] >= t - pd.Timedelta(days=LOOKBACK_DAYS))]
    ev_by_family = {k: g.sort_values("event_date") for k, g in ev.groupby("family_id")}
    mem = records.members
    children = mem[mem["role"] == "child"]
    ages = ((t - children["birth_date"]).dt.days // 365.25).astype(int)
    children = children.assign(age=ages)
    children = children[(children["age"] >= 0) & (children["age"] < 18)]
    kids = {k: g for k, g in children.groupby("family_id")}
    parents = mem[mem["role"] != "child"].groupby("family_id").size()

    payloads: dict[str, FlagPayload] = {}
    flagged_ix = np.flatnonzero(scores["flagged"].to_numpy())
    for i in flagged_ix:
        fid = fam[i]
        payloads[family_prefix + fid] = _payload(
            fid=fid,
            family_prefix=family_prefix,
            row=scores.iloc[i],
            settlement=str(fams["settlement"].iloc[i]),
            values=x[i],
            contrib=contrib[i],
            risk_cols=risk_cols,
            base=base,
            base_rate=base_rate,
            capacity=capacities[district[i]],
            events=ev_by_family.get(fid),
            kids=kids.get(fid),
            n_parents=int(parents.get(fid, 0)),
            context=frame.loc[fid],
            catalog=catalog,
            as_of=as_of,
        )
    return FakeScreening(scores=scores, payloads=payloads)


def _payload(
    *,
    fid: str,
    family_prefix: str,
    row: pd.Series,
    settlement: str,
    values: np.ndarray,
    contrib: np.ndarray,
    risk_cols: list[str],
    base: float,
    base_rate: float,
    capacity: int,
    events: pd.DataFrame | None,
    kids: pd.DataFrame | None,
    n_parents: int,
    context: pd.Series,
    catalog: ServiceCatalog,
    as_of: str,
) -> FlagPayload:
    order = np.argsort(-np.abs(contrib), kind="stable")
    contributions: list[PayloadContribution] = []
    by_domain: dict[str, float] = dict.fromkeys(features.DOMAINS, 0.0)
    for j in order:
        spec = features.FEATURES[risk_cols[j]]
        contributions.append(
            PayloadContribution(
                feature=spec.name,
                value=float(values[j]),
                contribution=float(contrib[j]),
                domain=spec.domain,
                unit=spec.unit,
                description_ru=spec.description_ru,
                description_en=spec.description_en,
            )
        )
        by_domain[spec.domain] += float(contrib[j])
    ages = sorted(int(a) for a in (kids["age"] if kids is not None else []))
    disabled = bool(kids is not None and kids["disability"].any())
    low_income = bool(context.get("low_income", 0))
    composition = PayloadComposition(
        n_children=len(ages),
        children_ages=ages,
        single_parent=n_parents == 1,
        large_family=len(ages) >= 3,
        disabled_child=disabled,
        low_income=low_income,
        settlement=settlement,
    )
    needs = [d for d, v in sorted(by_domain.items(), key=lambda kv: -kv[1]) if v > 0.05]
    for ctx, dom in ((low_income, "material"), (disabled, "health_disability")):
        if ctx and dom not in needs:
            needs.append(dom)
    weights = {d: max(v, 0.0) for d, v in by_domain.items()}
    attributes = {
        "disabled_child": disabled,
        "low_income": low_income,
        "large_family": composition["large_family"],
        "single_parent": composition["single_parent"],
        "teenager": any(12 <= a < 18 for a in ages),
        "young_child": any(a < 7 for a in ages),
    }
    found = catalog.match(str(row["district"]), attributes=attributes, domain_weights=weights)
    services = [
        PayloadService(
            service_id=str(s.service_id),
            name_ru=str(s.name_ru),
            name_en=str(s.name_en),
            organisation_ru=str(s.organisation_ru),
            organisation_en=str(s.organisation_en),
            category=str(s.category),
            domains=list(s.domains),
            relevance=float(s.relevance),
        )
        for s in found.head(5).itertuples()
    ]
    timeline: list[PayloadEvent] = []
    sources_seen: set[str] = set()
    if events is not None:
        for e in events.itertuples():
            et = features.EVENT_TYPES[str(e.event_type)]
            sources_seen.add(str(e.source))
            timeline.append(
                PayloadEvent(
                    event_id=str(e.event_id),
                    date=pd.Timestamp(e.event_date).date().isoformat(),
                    source=str(e.source),
                    event_type=str(e.event_type),
                    value=None if pd.isna(e.value) else float(e.value),
                    description_ru=et.description_ru,
                    description_en=et.description_en,
                )
            )
    payload = FlagPayload(
        family_id=family_prefix + fid,
        district=str(row["district"]),
        settlement=settlement,
        as_of=as_of,
        model_name=MODEL_NAME,
        model_version=MODEL_VERSION,
        score=float(row["score"]),
        log_odds=float(row["log_odds"]),
        base_log_odds=base,
        baseline="average",
        base_rate=base_rate,
        tier=str(row["tier"]),
        rank_in_district=int(row["rank_in_district"]),
        capacity=capacity,
        lookback_days=LOOKBACK_DAYS,
        composition=composition,
        contributions=contributions,
        by_domain=by_domain,
        coverage={s: s in sources_seen for s in features.SOURCE_NAMES},
        needs=needs,
        services=services,
        timeline=timeline,
        missing_sources=[],
    )
    return validate_payload(payload)


# Shared by the test modules (imported by name: a conftest cannot be, since every test folder
# has one and they would clash in a single pytest run).
#: name -> (password, role, districts)
USERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "anna": ("anna-password-1", "specialist", ("velikiy_novgorod", "valdaysky")),
    "alla": ("alla-password-1", "specialist", ("velikiy_novgorod",)),
    "boris": ("boris-password-1", "specialist", ("borovichsky",)),
    "sveta": ("sveta-password-1", "supervisor", ("velikiy_novgorod", "valdaysky", "borovichsky")),
    "locked": ("locked-password", "specialist", ("borovichsky",)),
}


def make_queue(path: Path, screening: ScreeningLike) -> ReviewQueue:
    queue = ReviewQueue(f"sqlite:///{path}")
    queue.enqueue(screening, "run-2025-06")
    for name, (password, role, districts) in USERS.items():
        queue.add_user(name, password, role, districts)
    return queue


@dataclass(frozen=True)
class Served:
    queue: ReviewQueue
    url: str

    def client(self, user: str):  # type: ignore[no-untyped-def]
        from gradio_client import Client

        return Client(self.url, auth=(user, USERS[user][0]), verbose=False)
