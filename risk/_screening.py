"""The result of one screening run: advisory scores, tiers, flags and what each flag is shown.

:class:`Screening` scores every family with the calibrated model, ranks families within their
district and flags the top ones up to the district's capacity (``risk/_flags.py``). It explains
any family exactly (LightGBM's TreeSHAP scaled by the calibration slope: the contributions add up
to the displayed log-odds), names its needs and the services available to it, and hands the
review queue one :class:`risk.FlagPayload` per flag.

A score never decides anything: the scores frame carries ``advisory = True`` and no decision
column, and nothing here acts on a family. Flags only become items of a human review queue.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd

from features import (
    DOMAINS,
    FEATURES,
    SOURCES,
    Records,
    Vocabulary,
    context_features,
    feature_specs,
)
from risk._errors import UnknownFamily
from risk._explanation import Explanation
from risk._flags import assign_tiers
from risk._model import Capacity, RiskModel
from risk._needs import (
    SERVICES_LIMIT,
    children_ages,
    domain_pulls,
    eligibility,
    match_services,
    needs,
    services_payload,
)
from risk._payload import (
    SCORE_COLUMNS,  # the queue's contract: one list
    FlagPayload,
    PayloadService,
    contribution_entries,
    timelines,
)
from risk._services import ServiceCatalog
from risk._vocabulary import model_vocabulary

#: Columns of :meth:`Screening.summary`.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "district",
    "families",
    "flagged",
    "capacity",
    "priority",
    "support",
    "universal",
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class Screening:
    """The result of one screening run: advisory scores, tiers, and what each flag is shown.

    Built by :meth:`Screener.screen`; treat it as read-only. Explanations of flagged families are
    computed at once, in one batch; any other family is explained on demand.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per family of the screening population (sorted by ``family_id``) with the
        :data:`SCORE_COLUMNS`; ``advisory`` is always true and no column decides anything.
    features : pandas.DataFrame
        The built features (every registered feature), indexed by ``family_id``.
    as_of : pandas.Timestamp
    model : RiskModel
    capacity : Capacity
        The capacity the flags were computed with.
    excluded_events : frozenset of str
        Records left out (disputed).
    vocabulary : Vocabulary
        The records' event types (default: the model's); descriptions of features and records.
    """

    def __init__(
        self,
        *,
        records: Records,
        features: pd.DataFrame,
        as_of: pd.Timestamp,
        model: RiskModel,
        capacity: Capacity,
        catalog: ServiceCatalog,
        excluded_events: frozenset[str] = frozenset(),
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self._records = records
        self.vocabulary = vocabulary or model_vocabulary(model)
        self._specs = feature_specs(self.vocabulary)
        self.features = features
        self.as_of = as_of
        self.model = model
        self.capacity = capacity
        self.catalog = catalog
        self.excluded_events = excluded_events

        ids = features.index.to_numpy(dtype=str)
        fams = records.families
        where = pd.Index(fams["family_id"].astype(str)).get_indexer(features.index)
        self._district = fams["district"].to_numpy(dtype=str)[where]
        self._settlement = fams["settlement"].to_numpy(dtype=str)[where]
        # The model scores in blocks: no float matrix of the whole population is made.
        log_odds = model.log_odds(features)
        score = _sigmoid(log_odds)
        frame = pd.DataFrame(
            {
                "family_id": pd.array(ids, dtype="str"),
                "district": pd.array(self._district, dtype="str"),
                "score": score,
                "log_odds": log_odds,
            }
        )
        tiers = assign_tiers(frame, capacity)
        tiers["model_version"] = pd.array([model.version] * len(ids), dtype="str")
        tiers["as_of"] = np.full(len(ids), as_of.to_datetime64(), dtype="datetime64[s]")
        tiers["advisory"] = True
        self._scores = tiers.loc[:, list(SCORE_COLUMNS)]
        # Plain arrays for per-family look-ups (pandas row access costs a millisecond each).
        self._ids = ids
        self._sorter = np.argsort(ids, kind="stable")
        self._score = score
        self._log_odds = log_odds
        self._capacity_of = tiers["capacity"].to_numpy(dtype=np.int64)
        self._rank = tiers["rank_in_district"].to_numpy(dtype=np.int64)
        self._tier = tiers["tier"].to_numpy(dtype=str)
        self._flagged = tiers["flagged"].to_numpy(dtype=bool)
        self._context_names = (*context_features(), "single_parent", "large_family", "n_children")
        self._context = features.loc[:, list(self._context_names)].to_numpy(dtype=np.float64)
        self._explanations: dict[str, Explanation] = {}
        self._payloads: dict[str, FlagPayload] | None = None
        # Agency feeds missing per district before this run (``note_missing_sources``).
        self._missing_sources: dict[str, list[str]] = {}
        self._flag_contrib: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        flagged = self.flagged_ids
        if flagged:
            self._flag_contrib = self._explain_batch(flagged)

    def __repr__(self) -> str:
        return (
            f"Screening(as_of={self.as_of.date()}, model={self.model.name} "
            f"{self.model.version}, families={len(self._ids)}, flagged={int(self._flagged.sum())})"
        )

    # -- scores and tiers --------------------------------------------------------------------

    @property
    def scores(self) -> pd.DataFrame:
        """Scores, tiers and flags, one row per screened family (a copy)."""
        return self._scores.copy()

    @property
    def flagged_ids(self) -> list[str]:
        """Family ids of the flags, by district then rank."""
        pos = np.flatnonzero(self._flagged)
        order = np.lexsort((self._rank[pos], self._district[pos]))
        return [str(f) for f in self._ids[pos[order]]]

    @property
    def base_rate(self) -> float:
        """Mean score of the screened population (the regional base rate)."""
        return float(self._score.mean()) if len(self._score) else 0.0

    def summary(self) -> pd.DataFrame:
        """Per district: families, flagged, capacity and the count of each tier.

        Examples
        --------
        >>> list(SUMMARY_COLUMNS)
        ['district', 'families', 'flagged', 'capacity', 'priority', 'support', 'universal']
        """
        s = pd.DataFrame(
            {
                "district": self._district,
                "flagged": self._flagged,
                "capacity": self._capacity_of,
                "tier": self._tier,
            }
        )
        counts = pd.crosstab(s["district"], s["tier"]).reindex(
            columns=["priority", "support", "universal"], fill_value=0
        )
        grouped = s.groupby("district", sort=True)
        out = pd.DataFrame(
            {
                "families": grouped.size(),
                "flagged": grouped["flagged"].sum(),
                "capacity": grouped["capacity"].first(),
            }
        ).join(counts)
        out = out.rename_axis("district").reset_index()
        return out.loc[:, list(SUMMARY_COLUMNS)].astype({c: np.int64 for c in SUMMARY_COLUMNS[1:]})

    # -- explanations ------------------------------------------------------------------------

    def _position(self, family_id: str) -> int:
        i = int(np.searchsorted(self._ids, family_id, sorter=self._sorter))
        if i < len(self._ids) and self._ids[self._sorter[i]] == family_id:
            return int(self._sorter[i])
        known = bool((self._records.families["family_id"].astype(str) == family_id).any())
        why = (
            "is not in the screening population (registered after it, no child under 18, "
            "or an outcome in the year before)"
            if known
            else "is not in the records"
        )
        raise UnknownFamily(
            f"family {family_id!r} {why} at {self.as_of.date()}; it was not screened"
        )

    def _explain_batch(self, family_ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = [self._position(f) for f in family_ids]
        rows = self.features.iloc[pos]
        contrib_frame, base = self.model.contributions(rows)
        contrib = contrib_frame.to_numpy(dtype=np.float64)
        values = rows.loc[:, list(self.model.features)].to_numpy(dtype=np.float64)
        names = list(self.model.features)
        specs = [self._specs[f] for f in names]
        n = len(names)
        # One long frame for the whole batch, each family's rows sorted by |contribution|, then
        # cut into per-family slices: building a frame per family costs milliseconds each.
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")
        flat = order.reshape(-1)

        def column(texts: list[str]) -> pd.api.extensions.ExtensionArray:
            return pd.array(np.asarray(texts, dtype=object)[flat], dtype="str")

        long = pd.DataFrame(
            {
                "feature": column(names),
                "value": np.take_along_axis(values, order, axis=1).reshape(-1),
                "contribution": np.take_along_axis(contrib, order, axis=1).reshape(-1),
                "domain": column([sp.domain for sp in specs]),
                "description_ru": column([sp.description_ru for sp in specs]),
                "description_en": column([sp.description_en for sp in specs]),
            }
        )
        one_hot = np.zeros((n, len(DOMAINS)))
        one_hot[np.arange(n), [DOMAINS.index(sp.domain) for sp in specs]] = 1.0
        by_domain = contrib @ one_hot
        has = rows.loc[:, [f"has_{src}_records" for src in SOURCES]]
        coverage = has.to_numpy(dtype=np.float64) > 0
        domain_index = pd.Index(DOMAINS, name="domain")
        for i, fid in enumerate(family_ids):
            self._explanations[fid] = Explanation(
                family_id=fid,
                base_log_odds=float(base[i]),
                log_odds=float(self._log_odds[pos[i]]),
                score=float(self._score[pos[i]]),
                contributions=long.iloc[i * n : (i + 1) * n].reset_index(drop=True),
                by_domain=pd.Series(by_domain[i], index=domain_index, name="contribution"),
                coverage={src: bool(coverage[i, k]) for k, src in enumerate(SOURCES)},
                lookback_days=self.model.lookback_days,
                units={f: sp.unit for f, sp in zip(names, specs, strict=True) if f not in FEATURES},
                baseline=self.model.baseline,
            )
        return np.asarray(family_ids, dtype=str), contrib, values

    def explain(self, family_id: str) -> Explanation:
        """Explain one family's score exactly.

        Flagged families were explained at screening time; others are explained now (and kept).

        Raises
        ------
        UnknownFamily
            The family was not screened (not in the records or not in the population).
        """
        family_id = str(family_id)
        if family_id not in self._explanations:
            self._explain_batch([family_id])
        return self._explanations[family_id]

    def explanations_frame(self) -> pd.DataFrame:
        """Contributions of every flagged family, long format (one row per family and feature).

        Columns ``family_id``, ``feature``, ``value``, ``contribution``, ``domain``; a family's
        contributions plus its base add up to its log-odds.
        """
        names = list(self.model.features)
        ids, contrib, values = self._flag_contrib or (
            np.zeros(0, dtype=str),
            np.zeros((0, len(names))),
            np.zeros((0, len(names))),
        )
        k, n = len(ids), len(names)
        domains = [self._specs[f].domain for f in names]
        return pd.DataFrame(
            {
                "family_id": pd.array(np.repeat(ids, n), dtype="str"),
                "feature": pd.array(names * k, dtype="str"),
                "value": values.reshape(-1),
                "contribution": contrib.reshape(-1),
                "domain": pd.array(domains * k, dtype="str"),
            }
        )

    # -- needs and services ------------------------------------------------------------------

    def _context_of(self, pos: int) -> dict[str, float]:
        return dict(zip(self._context_names, self._context[pos].tolist(), strict=True))

    def _by_domain(self, family_id: str) -> dict[str, float]:
        by_domain = self.explain(family_id).by_domain
        return {
            str(d): float(v) for d, v in zip(by_domain.index, by_domain.to_numpy(), strict=True)
        }

    def needs(self, family_id: str) -> list[str]:
        """Need domains that drive the family's score or show in its context, strongest first.

        A domain drives the score when its contributions add more than
        ``risk._needs.NEED_THRESHOLD`` log-odds; context signals (low income, a disabled child
        or parent) show a need without entering the score.
        """
        fid = str(family_id)
        return needs(self._by_domain(fid), self._context_of(self._position(fid)))

    def _children_ages(self, family_ids: list[str]) -> dict[str, list[int]]:
        members = self._records.members
        mine = members["family_id"].astype(str).isin(family_ids).to_numpy()
        ages = children_ages(members.loc[mine], self.as_of)
        out: dict[str, list[int]] = {f: [] for f in family_ids}
        for fid, age in zip(ages["family_id"].tolist(), ages["age"].tolist(), strict=True):
            out[str(fid)].append(int(age))
        return out

    def _services(self, family_id: str, ages: list[int]) -> pd.DataFrame:
        pos = self._position(family_id)
        context = self._context_of(pos)
        return match_services(
            self.catalog,
            str(self._district[pos]),
            attributes=eligibility(context, ages),
            pulls=domain_pulls(self._by_domain(family_id), context),
            limit=SERVICES_LIMIT,
        )

    def services(self, family_id: str) -> pd.DataFrame:
        """Services available in the family's district whose eligibility it meets, best first.

        Returns
        -------
        pandas.DataFrame
            ``service_id``, ``name_ru``, ``name_en``, ``organisation_ru``, ``organisation_en``,
            ``category``, ``domains``, ``eligibility`` and ``relevance`` (the sum of the
            family's pulls over the service's domains: positive contributions, plus context
            signals such as a low income), at most 10 services.
        """
        fid = str(family_id)
        self._position(fid)
        return self._services(fid, self._children_ages([fid])[fid])

    # -- what the review queue stores --------------------------------------------------------

    def _payloads_for(self, family_ids: list[str]) -> dict[str, FlagPayload]:
        ages = self._children_ages(family_ids)
        events = timelines(
            self._records.events,
            family_ids,
            as_of=self.as_of,
            lookback_days=self.model.lookback_days,
            excluded_events=self.excluded_events,
            event_types=self.vocabulary.event_types,
        )
        units = {f: self._specs[f].unit for f in self.model.features}
        base_rate = self.base_rate
        out: dict[str, FlagPayload] = {}
        for fid in family_ids:
            pos = self._position(fid)
            e = self.explain(fid)
            ctx = self._context_of(pos)
            settlement = str(self._settlement[pos])
            services = cast(
                "list[PayloadService]", services_payload(self._services(fid, ages[fid]))
            )
            out[fid] = {
                "family_id": fid,
                "district": str(self._district[pos]),
                "settlement": settlement,
                "as_of": self.as_of.date().isoformat(),
                "model_name": str(self.model.name),
                "model_version": str(self.model.version),
                "score": float(self._score[pos]),
                "log_odds": float(self._log_odds[pos]),
                "base_log_odds": float(e.base_log_odds),
                "baseline": e.baseline,
                "base_rate": base_rate,
                "tier": str(self._tier[pos]),
                "rank_in_district": int(self._rank[pos]),
                "capacity": int(self._capacity_of[pos]),
                "lookback_days": int(self.model.lookback_days),
                "composition": {
                    "n_children": int(ctx["n_children"]),
                    "children_ages": ages[fid],
                    "single_parent": ctx["single_parent"] > 0,
                    "large_family": ctx["large_family"] > 0,
                    "disabled_child": ctx["disabled_child"] > 0,
                    "low_income": ctx["low_income"] > 0,
                    "settlement": settlement,
                },
                "contributions": contribution_entries(e.contributions, units),
                "by_domain": self._by_domain(fid),
                "coverage": {str(k): bool(v) for k, v in e.coverage.items()},
                "needs": self.needs(fid),
                "services": services,
                "timeline": events[fid],
                "missing_sources": list(self._missing_sources.get(str(self._district[pos]), [])),
            }
        return out

    def note_missing_sources(self, by_district: Mapping[str, Sequence[str]]) -> None:
        """Record the agency feeds that went silent or collapsed, per district, before this run.

        The payload of every family of such a district names them, so that its card says the
        score was made without them: a missing feed must never look like low risk. The input
        check of ``risk.monitoring`` finds them (``missing_sources_by_district``).
        """
        self._missing_sources = {str(d): [str(x) for x in s] for d, s in by_district.items()}
        self._payloads = None  # payloads already built did not say it

    def payload(self, family_id: str) -> FlagPayload:
        """Return what a specialist is shown about one screened family (JSON-serialisable).

        A :class:`risk.FlagPayload`: identity and score, the model's lookback, composition,
        contributions (every model feature, largest first), ``by_domain``, ``coverage``,
        ``needs``, ``services`` and the ``timeline`` of the family's records in the lookback,
        oldest first.

        Raises
        ------
        UnknownFamily
            The family was not screened.
        """
        fid = str(family_id)
        if self._payloads is not None and fid in self._payloads:
            return copy.deepcopy(self._payloads[fid])
        self._position(fid)
        return self._payloads_for([fid])[fid]

    def flag_payloads(self) -> dict[str, FlagPayload]:
        """One payload per flagged family (``family_id`` -> :meth:`payload`), computed once.

        This is what :meth:`risk.review.ReviewQueue.enqueue` stores, as shown.
        """
        if self._payloads is None:
            self._payloads = self._payloads_for(self.flagged_ids)
        return copy.deepcopy(self._payloads)
