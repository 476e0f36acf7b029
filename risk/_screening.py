"""The public screening API: load a model, screen a population, explain and match every flag.

``Screener.screen`` builds the features of the screening population as of a date, scores every
family with the calibrated model, ranks families within their district and flags the top ones up
to the district's capacity (``risk/_flags.py``). The returned :class:`Screening` explains any
family exactly (LightGBM's TreeSHAP scaled by the calibration slope: the contributions add up to
the displayed log-odds), names its needs and the services available to it, and hands the review
queue one payload per flag.

A score never decides anything: the scores frame carries ``advisory = True`` and no decision
column, and nothing here acts on a family. Flags only become items of a human review queue.
"""

from __future__ import annotations

import copy
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from features import (
    DEFAULT_LOOKBACK_DAYS,
    DOMAIN_NAMES,
    DOMAINS,
    EVENT_TYPES,
    FEATURES,
    SOURCE_NAMES,
    SOURCES,
    InputError,
    Records,
    build_features,
    context_features,
)
from risk._flags import CapacityLike, assign_tiers, resolve_capacity
from risk._model import Capacity, ModelError, RiskModel
from risk._needs import (
    SERVICES_LIMIT,
    children_ages,
    domain_pulls,
    eligibility,
    match_services,
    needs,
    services_payload,
)
from risk._services import ServiceCatalog, load_catalog
from risk.review._screening import SCORE_COLUMNS  # the queue's contract: one list

if TYPE_CHECKING:
    from risk.review import ReviewQueue

#: Features of another role than ``risk`` that a model may still use (none: context features
#: such as disability or low income serve needs and audits, never the score).
ALLOWED_NON_RISK_FEATURES: frozenset[str] = frozenset()

#: Where an MLflow model logged by ``risk/_pyfunc.py`` keeps the model directory.
MLFLOW_MODEL_SUBDIR = Path("artifacts") / "risk_model"


#: Columns of :attr:`Explanation.contributions`, in order.
CONTRIBUTION_COLUMNS: tuple[str, ...] = (
    "feature",
    "value",
    "contribution",
    "domain",
    "description_ru",
    "description_en",
)

#: Columns of :meth:`Screening.explanations_frame`.
EXPLANATION_COLUMNS: tuple[str, ...] = ("family_id", "feature", "value", "contribution", "domain")

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

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))/?$")


#: A trailing "(...)" of a description: how a missing value is filled, not what a reader needs.
_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")


class ScreeningError(InputError):
    """A screening request cannot be served (bad arguments, a family that was not screened)."""


class UnknownFamily(ScreeningError, KeyError):
    """A family id that is not in the screened population."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# ---- explanation ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Explanation:
    """Why a family got its score: exact per-feature contributions to the log-odds.

    Attributes
    ----------
    family_id : str
    base_log_odds : float
        The log-odds of the average family (the calibrated expected margin).
    log_odds : float
        The family's calibrated log-odds: ``base_log_odds + contributions.contribution.sum()``.
    score : float
        The calibrated probability, ``1 / (1 + exp(-log_odds))``.
    contributions : pandas.DataFrame
        One row per model feature, ``feature``, ``value``, ``contribution``, ``domain``,
        ``description_ru``, ``description_en``, sorted by absolute contribution (largest first).
    by_domain : pandas.Series
        Sum of contributions per need domain (every domain of :data:`features.DOMAINS`).
    coverage : dict of str to bool
        Per source, whether the family has any record from it in the lookback; ``False`` is
        what the model cannot see.
    lookback_days : int
        The model's lookback (a recency beyond it means "no record").

    Examples
    --------
    >>> import pandas as pd
    >>> e = Explanation(
    ...     family_id="F1", base_log_odds=-3.0, log_odds=-1.5, score=0.1824,
    ...     contributions=pd.DataFrame({
    ...         "feature": ["school_absence_days_90d", "single_parent"], "value": [23.0, 0.0],
    ...         "contribution": [1.8, -0.3], "domain": ["child_development", "parenting_relations"],
    ...         "description_ru": ["Дни пропусков школы без уважительной причины за 90 дней",
    ...                            "Один родитель или опекун в семье"],
    ...         "description_en": ["School days missed without a valid reason in the last 90 days",
    ...                            "One parent or guardian in the family"]}),
    ...     by_domain=pd.Series({"child_development": 1.8, "parenting_relations": -0.3}),
    ...     coverage={"education": True, "police": False})
    >>> print(e.to_text("en"))
    Score 18.2% (log-odds -1.50; average family -3.00). The score orders a review queue; it decides nothing.
    Child development and education (+1.80):
      - School days missed without a valid reason in the last 90 days: 23 days → raises
    Parenting and relationships (-0.30):
      - One parent or guardian in the family: no → lowers
    No records from: Police (the model cannot see them).
    """  # noqa: E501

    family_id: str
    base_log_odds: float
    log_odds: float
    score: float
    contributions: pd.DataFrame
    by_domain: pd.Series
    coverage: Mapping[str, bool] = field(default_factory=dict)
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    def to_text(
        self, lang: Literal["ru", "en"] = "ru", *, top: int = 8, min_abs: float = 0.01
    ) -> str:
        """Render the explanation as plain sentences, grouped by need domain.

        Parameters
        ----------
        lang : {"ru", "en"}
        top : int
            Show at most this many features (the largest contributions).
        min_abs : float
            Leave out features whose contribution is smaller than this in absolute value.
        """
        if lang not in ("ru", "en"):
            raise ScreeningError(f"lang must be 'ru' or 'en'; got {lang!r}")
        ru = lang == "ru"
        shown = self.contributions[self.contributions["contribution"].abs() >= min_abs].head(top)
        if ru:
            lines = [
                f"Оценка {_pct(self.score, ru)} (логит {_signed(self.log_odds, ru)}; средняя "
                f"семья {_signed(self.base_log_odds, ru)}). Оценка упорядочивает очередь на "
                "рассмотрение и "
                "ничего не решает."
            ]
        else:
            lines = [
                f"Score {_pct(self.score, ru)} (log-odds {self.log_odds:+.2f}; average family "
                f"{self.base_log_odds:+.2f}). The score orders a review queue; it decides nothing."
            ]
        domain_order = sorted(
            shown["domain"].unique(), key=lambda d: -abs(float(self.by_domain.get(d, 0.0)))
        )
        for domain in domain_order:
            name = DOMAIN_NAMES[domain][0 if ru else 1] if domain in DOMAIN_NAMES else domain
            lines.append(f"{name} ({_signed(float(self.by_domain.get(domain, 0.0)), ru)}):")
            for row in shown[shown["domain"] == domain].itertuples(index=False):
                desc = _PARENTHESIS.sub("", str(row.description_ru if ru else row.description_en))
                value = _value_text(str(row.feature), float(row.value), ru, self.lookback_days)
                up = float(row.contribution) > 0
                verb = ("повышает" if up else "снижает") if ru else ("raises" if up else "lowers")
                lines.append(f"  - {desc}: {value} → {verb}")
        unseen = [SOURCE_NAMES[s][0 if ru else 1] for s, seen in self.coverage.items() if not seen]
        if unseen:
            if ru:
                lines.append(f"Нет записей: {', '.join(unseen)} (модель их не видит).")
            else:
                lines.append(f"No records from: {', '.join(unseen)} (the model cannot see them).")
        return "\n".join(lines)


def _signed(x: float, ru: bool) -> str:
    text = f"{x:+.2f}"
    return text.replace(".", ",") if ru else text


def _pct(p: float, ru: bool) -> str:
    text = f"{100 * p:.1f}%"
    return text.replace(".", ",") if ru else text


_RU_FORMS = {
    "days": ("день", "дня", "дней"),
    "count": ("запись", "записи", "записей"),
    "years": ("год", "года", "лет"),
    "months": ("месяц", "месяца", "месяцев"),
}
_EN_FORMS = {
    "days": ("day", "days"),
    "count": ("record", "records"),
    "years": ("year", "years"),
    "months": ("month", "months"),
}


def _ru_plural(x: float, forms: tuple[str, str, str]) -> str:
    if not float(x).is_integer():
        return forms[1]
    n = abs(int(x))
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def _number(x: float, ru: bool) -> str:
    text = f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"
    return text.replace(",", "\u00a0").replace(".", ",") if ru else text


def _value_text(feature: str, x: float, ru: bool, lookback_days: int) -> str:
    """Render a feature's value as a specialist reads it: '23 дня', 'no record in the lookback'."""
    unit = FEATURES[feature].unit if feature in FEATURES else "count"
    if feature.endswith("_days_since") and x > lookback_days:
        return "нет записей за период наблюдения" if ru else "no record in the lookback"
    if unit == "flag":
        return ("да" if x > 0 else "нет") if ru else ("yes" if x > 0 else "no")
    if unit == "roubles":
        return f"{_number(x, ru)} руб." if ru else f"{_number(x, ru)} roubles"
    if unit == "per 90 days":
        sign = f"{x:+.1f}"
        return f"{sign.replace('.', ',')} за 90 дней" if ru else f"{sign} per 90 days"
    if ru:
        return f"{_number(x, ru)} {_ru_plural(x, _RU_FORMS.get(unit, _RU_FORMS['count']))}"
    one, many = _EN_FORMS.get(unit, _EN_FORMS["count"])
    return f"{_number(x, ru)} {one if x == 1 else many}"


# ---- the screener --------------------------------------------------------------------------


def check_model(model: RiskModel, allowed: Iterable[str] = ALLOWED_NON_RISK_FEATURES) -> None:
    """Check that a model's features are in the installed registry and may be model input.

    Raises
    ------
    ModelError
        Naming the model and every feature that differs: names the registry does not know,
        context features (never model input) that are not explicitly allowed, or a booster that
        expects another number of inputs.

    Examples
    --------
    >>> import lightgbm as lgb, numpy as np
    >>> booster = lgb.train({"verbose": -1}, lgb.Dataset(np.eye(30)[:, :2], np.arange(30.0)),
    ...                     num_boost_round=1)
    >>> check_model(RiskModel(booster, ("n_children", "low_income")))
    Traceback (most recent call last):
    ...
    risk._model.ModelError: model family-distress version local uses 1 context feature(s) that are never model input: low_income
    """  # noqa: E501
    model.check_features(list(FEATURES))
    allowed_set = set(allowed)
    context = [f for f in model.features if FEATURES[f].role != "risk" and f not in allowed_set]
    if context:
        raise ModelError(
            f"model {model.name} version {model.version} uses {len(context)} context feature(s) "
            f"that are never model input: {', '.join(context)}"
        )
    n_inputs = int(model.booster.num_feature())
    if n_inputs != len(model.features):
        raise ModelError(
            f"model {model.name} version {model.version}: the booster takes {n_inputs} inputs "
            f"but model.json lists {len(model.features)} features"
        )


class Screener:
    """Screen a population with a calibrated model: advisory scores, flags, explanations.

    Parameters
    ----------
    model : RiskModel
        The calibrated model; its features are checked against the installed registry.
    catalog : ServiceCatalog, optional
        The services catalog used for matching (default: the packaged one).

    Examples
    --------
    >>> import lightgbm as lgb, numpy as np, pandas as pd
    >>> from features import Records
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0]] * 10)
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 1},
    ...                     lgb.Dataset(X, (X[:, 0] > 2).astype(float)), num_boost_round=2)
    >>> screener = Screener(RiskModel(booster, ("n_children",)))
    >>> screening = screener.screen(Records.empty(), "2024-01-01")
    >>> list(screening.scores.columns) == list(SCORE_COLUMNS), len(screening.scores)
    (True, 0)
    """

    def __init__(self, model: RiskModel, *, catalog: ServiceCatalog | None = None) -> None:
        check_model(model)
        self.model = model
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"Screener(model={self.model.name!r}, version={self.model.version!r})"

    @property
    def catalog(self) -> ServiceCatalog:
        """The services catalog (the packaged one unless another was given)."""
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    @classmethod
    def load(
        cls, uri: str | os.PathLike[str], *, catalog: ServiceCatalog | None = None
    ) -> Screener:
        """Load a model from the MLflow registry, an MLflow run or a local directory.

        Parameters
        ----------
        uri : str or path-like
            ``models:/NAME@ALIAS`` (e.g. ``models:/family-distress@champion``),
            ``models:/NAME/VERSION``, ``runs:/RUN_ID/PATH``, or a local directory holding
            ``model.json`` directly or an MLflow model with ``artifacts/risk_model/model.json``.
        catalog : ServiceCatalog, optional
            The services catalog (default: the packaged one).

        Raises
        ------
        ModelError
            Naming the URI: no such directory, no model in it, an unknown registered model,
            alias or version (with what exists), or features that differ from the installed
            registry (with the names).

        Examples
        --------
        >>> Screener.load("/nonexistent/model")
        Traceback (most recent call last):
        ...
        risk._model.ModelError: /nonexistent/model: no such model directory
        """
        text = os.fspath(uri)
        if isinstance(uri, str) and _URI.match(text) and not Path(text).exists():
            model = _load_mlflow(text)
        else:
            model = RiskModel.load(_model_dir(Path(text), text))
        return cls(model, catalog=catalog)

    def screen(
        self,
        records: Records,
        as_of: object,
        *,
        capacity: CapacityLike | None = None,
        exclude_events: Iterable[str] = (),
        disputed_from: ReviewQueue | None = None,
    ) -> Screening:
        """Score every family of the screening population at ``as_of`` and flag the top ones.

        Parameters
        ----------
        records : Records
            Validated records (``features.load_records`` validates).
        as_of : date-like
            The screening date; only records dated before it are read.
        capacity : Capacity, mapping of district to int, or int, optional
            Outreach capacity per district for the period. ``None``: the model's. An int: the
            same in every district. A mapping: those districts, others from the model.
        exclude_events : iterable of str
            ``event_id`` of records to leave out (disputed records).
        disputed_from : ReviewQueue, optional
            Also leave out every record disputed in this review queue.

        Returns
        -------
        Screening
        """
        if isinstance(exclude_events, str):
            raise ScreeningError(
                f"exclude_events must be a collection of event ids, not the string "
                f"{exclude_events!r}"
            )
        excluded = {str(e) for e in exclude_events}
        if disputed_from is not None:
            excluded |= {str(e) for e in disputed_from.disputed_event_ids()}
        cap = resolve_capacity(capacity, self.model.capacity)
        try:
            t = pd.Timestamp(as_of).normalize()  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ScreeningError(f"as_of must be a date; got {as_of!r} ({exc})") from None
        if t is pd.NaT:
            raise ScreeningError(f"as_of must be a date; got {as_of!r}")
        X = build_features(
            records,
            t,
            exclude_events=frozenset(excluded),
            lookback_days=self.model.lookback_days,
        )
        return Screening(
            records=records,
            features=X,
            as_of=t,
            model=self.model,
            capacity=cap,
            catalog=self.catalog,
            excluded_events=frozenset(excluded),
        )


def _model_dir(root: Path, uri: str) -> Path:
    if not root.is_dir():
        raise ModelError(f"{uri}: no such model directory")
    for candidate in (root, root / MLFLOW_MODEL_SUBDIR):
        if (candidate / "model.json").exists():
            return candidate
    raise ModelError(
        f"{uri}: not a model directory (no model.json in it nor in {MLFLOW_MODEL_SUBDIR})"
    )


def _load_mlflow(uri: str) -> RiskModel:
    import mlflow
    from mlflow.exceptions import MlflowException

    match = _MODELS_URI.match(uri)
    if uri.startswith("models:") and match is None:
        raise ModelError(f"{uri}: a registry URI is models:/NAME@ALIAS or models:/NAME/VERSION")
    try:
        version: str | None = None
        if match is not None:
            name = match["name"]
            if match["alias"]:
                client = mlflow.MlflowClient()
                version = str(client.get_model_version_by_alias(name, match["alias"]).version)
            elif match["version"] and match["version"].isdigit():
                version = match["version"]
        with tempfile.TemporaryDirectory(prefix="risk-model-") as tmp:
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
            model = RiskModel.load(_model_dir(Path(local), uri))
    except MlflowException as exc:
        hint = _registry_hint(uri)
        raise ModelError(f"{uri}: cannot load the model: {exc.message}{hint}") from None
    if match is not None and version is not None:
        model = model.with_version(version, name=match["name"])
    return model


def _registry_hint(uri: str) -> str:
    """Say what the registry holds, next to a failed lookup ('' if it cannot be read)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    match = _MODELS_URI.match(uri)
    if match is None:
        return ""
    client = mlflow.MlflowClient()
    try:
        names = sorted(m.name for m in client.search_registered_models())
        if match["name"] not in names:
            return f"; registered models: {', '.join(names) or 'none'}"
        registered = client.get_registered_model(match["name"])
        aliases = ", ".join(f"@{a} -> {v}" for a, v in sorted(registered.aliases.items()))
        versions = sorted(
            int(v.version) for v in client.search_model_versions(f"name='{match['name']}'")
        )
        return (
            f"; {match['name']} has versions {', '.join(map(str, versions)) or 'none'} and "
            f"aliases {aliases or 'none'}"
        )
    except MlflowException:
        return ""


# ---- the screening -------------------------------------------------------------------------


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
    ) -> None:
        self._records = records
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
        self._payloads: dict[str, dict[str, Any]] | None = None
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
        specs = [FEATURES[f] for f in names]
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
        domains = [FEATURES[f].domain for f in names]
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

    def _timelines(self, family_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        ev = self._records.events
        t = self.as_of.to_datetime64()
        lo = (self.as_of - pd.Timedelta(days=self.model.lookback_days)).to_datetime64()
        dates = ev["event_date"].to_numpy(dtype="datetime64[s]")
        keep = (dates >= lo) & (dates < t) & ev["family_id"].astype(str).isin(family_ids).to_numpy()
        if self.excluded_events:
            keep &= ~ev["event_id"].astype(str).isin(self.excluded_events).to_numpy()
        window = ev.loc[keep].sort_values(["family_id", "event_date", "event_id"], kind="stable")
        out: dict[str, list[dict[str, Any]]] = {f: [] for f in family_ids}
        columns = zip(
            window["family_id"].astype(str).tolist(),
            window["event_id"].astype(str).tolist(),
            window["event_date"].dt.strftime("%Y-%m-%d").tolist(),
            window["source"].astype(str).tolist(),
            window["event_type"].astype(str).tolist(),
            window["value"].to_numpy(dtype=np.float64).tolist(),
            strict=True,
        )
        for fid, event_id, date, source, event_type, value in columns:
            et = EVENT_TYPES.get(event_type)
            out[fid].append(
                {
                    "event_id": event_id,
                    "date": date,
                    "source": source,
                    "event_type": event_type,
                    "value": None if math.isnan(value) else value,
                    "description_ru": et.description_ru if et else event_type,
                    "description_en": et.description_en if et else event_type,
                }
            )
        return out

    def _payloads_for(self, family_ids: list[str]) -> dict[str, dict[str, Any]]:
        ages = self._children_ages(family_ids)
        timelines = self._timelines(family_ids)
        units = {f: FEATURES[f].unit for f in self.model.features}
        base_rate = self.base_rate
        out = {}
        for fid in family_ids:
            pos = self._position(fid)
            e = self.explain(fid)
            ctx = self._context_of(pos)
            settlement = str(self._settlement[pos])
            c = e.contributions
            contributions = [
                {
                    "feature": f,
                    "value": v,
                    "contribution": x,
                    "domain": d,
                    "unit": str(units[f]),
                    "description_ru": ru,
                    "description_en": en,
                }
                for f, v, x, d, ru, en in zip(
                    c["feature"].tolist(),
                    c["value"].to_numpy(dtype=np.float64).tolist(),
                    c["contribution"].to_numpy(dtype=np.float64).tolist(),
                    c["domain"].tolist(),
                    c["description_ru"].tolist(),
                    c["description_en"].tolist(),
                    strict=True,
                )
            ]
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
                "base_rate": base_rate,
                "tier": str(self._tier[pos]),
                "rank_in_district": int(self._rank[pos]),
                "capacity": int(self._capacity_of[pos]),
                "composition": {
                    "n_children": int(ctx["n_children"]),
                    "children_ages": ages[fid],
                    "single_parent": ctx["single_parent"] > 0,
                    "large_family": ctx["large_family"] > 0,
                    "disabled_child": ctx["disabled_child"] > 0,
                    "low_income": ctx["low_income"] > 0,
                    "settlement": settlement,
                },
                "contributions": contributions,
                "by_domain": self._by_domain(fid),
                "coverage": {str(k): bool(v) for k, v in e.coverage.items()},
                "needs": self.needs(fid),
                "services": services_payload(self._services(fid, ages[fid])),
                "timeline": timelines[fid],
            }
        return out

    def payload(self, family_id: str) -> dict[str, Any]:
        """Return what a specialist is shown about one screened family (JSON-serialisable).

        Keys as in the flag payload contract: identity and score, composition, contributions
        (every model feature, largest first), ``by_domain``, ``coverage``, ``needs``,
        ``services`` and the ``timeline`` of the family's records in the lookback, oldest first.

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

    def flag_payloads(self) -> dict[str, dict[str, Any]]:
        """One payload per flagged family (``family_id`` -> :meth:`payload`), computed once.

        This is what :meth:`risk.review.ReviewQueue.enqueue` stores, as shown.
        """
        if self._payloads is None:
            self._payloads = self._payloads_for(self.flagged_ids)
        return copy.deepcopy(self._payloads)
