"""The feature registry: every signal the builders make, with its need domain and role.

The registry is data. The builders (``features/_build.py``) produce exactly these columns in this
order, ``docs/features.md`` is rendered from it, and the model definition in ``models/`` chooses
among its ``risk`` features. A ``context`` feature is never model input: it serves needs,
service eligibility, the fairness audit and the review app.

Naming: ``<event_type>_n_<w>d`` counts records in the last ``w`` days, ``<event_type>_days_since``
is the recency, ``<event_type>_trend`` compares the last 90 days with the 270 before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, cast

from features._schema import EVENT_TYPES, SOURCE_NAMES, SOURCES, EventType

if TYPE_CHECKING:
    from features._vocabulary import Vocabulary

Domain = Literal[
    "material", "health_disability", "parenting_relations", "child_development", "safety"
]
Role = Literal["risk", "context"]

#: The five need domains, in the order they are shown.
DOMAINS: tuple[str, ...] = (
    "material",
    "health_disability",
    "parenting_relations",
    "child_development",
    "safety",
)

#: Domain code -> (Russian name, English name).
DOMAIN_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "material": ("Материальное положение", "Material situation"),
        "health_disability": ("Здоровье и инвалидность", "Health and disability"),
        "parenting_relations": ("Родительство и отношения", "Parenting and relationships"),
        "child_development": ("Развитие и обучение ребёнка", "Child development and education"),
        "safety": ("Безопасность", "Safety"),
    }
)

ROLES: tuple[str, ...] = ("risk", "context")

#: Default bounded lookback: records older than this never influence a feature.
DEFAULT_LOOKBACK_DAYS = 1095

#: Count windows, in days before the as-of date.
WINDOWS: tuple[int, ...] = (90, 365, 1095)

#: The trend compares the last ``TREND_RECENT`` days with the ``TREND_BEFORE`` days before them.
TREND_RECENT = 90
TREND_BEFORE = 270

#: Recency fill when a family has no record of the type in the lookback (``lookback_days + 1``).
RECENCY_FILL = float(DEFAULT_LOOKBACK_DAYS + 1)

Unit = Literal["count", "days", "roubles", "flag", "years", "months", "per 90 days"]

UNIT_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "count": ("случаев", "records"),
        "days": ("дней", "days"),
        "roubles": ("руб.", "roubles"),
        "flag": ("да = 1 / нет = 0", "yes = 1 / no = 0"),
        "years": ("полных лет", "whole years"),
        "months": ("полных месяцев", "whole months"),
        "per 90 days": ("случаев за 90 дней", "records per 90 days"),
    }
)


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the registry.

    Attributes
    ----------
    name : str
        Column name in the built frame.
    domain : str
        Need domain, one of :data:`DOMAINS`.
    role : {"risk", "context"}
        ``risk``: the model may use it. ``context``: needs, eligibility and fairness only.
    unit : str
        Unit of the value (a key of :data:`UNIT_NAMES`).
    description_ru, description_en : str
        What a specialist reads, in Russian and English.
    source : str or None
        The agency a record-based feature comes from; ``None`` for family composition.
    fill : float
        The value a family gets when it has no data for the feature (no record in the window):
        0 for counts, sums, flags and trends; ``lookback_days + 1`` for recencies.
    dtype : {"int64", "float64"}
        Column dtype in the built frame.

    Examples
    --------
    >>> from features import FEATURES
    >>> spec = FEATURES["school_absence_days_90d"]
    >>> spec.domain, spec.role, spec.unit
    ('child_development', 'risk', 'days')
    >>> spec.description_en
    'School days missed without a valid reason in the last 90 days'
    """

    name: str
    domain: Domain
    role: Role
    unit: Unit
    description_ru: str
    description_en: str
    source: str | None
    fill: float
    dtype: Literal["int64", "float64"] = "int64"


#: Need domain of each event type's signals (low-income status is context, see below).
#: Eviction notices and utility disconnections are *material*: the need they show is housing
#: and money, and the services that answer it are material help; *safety* is kept for signals
#: of harm to a child or violence at home (emergency care, police call-outs).
EVENT_DOMAINS: Mapping[str, Domain] = MappingProxyType(
    {
        "low_income_status": "material",
        "benefit_application": "material",
        "social_contract": "material",
        "material_aid": "material",
        "school_absence": "child_development",
        "academic_failure": "child_development",
        "school_conduct_report": "child_development",
        "kindergarten_absence": "child_development",
        "missed_checkup": "health_disability",
        "child_emergency_visit": "safety",
        "parent_addiction_care": "parenting_relations",
        "parent_serious_illness": "health_disability",
        "domestic_disturbance_call": "safety",
        "parent_administrative_offence": "parenting_relations",
        "juvenile_offence": "child_development",
        "job_loss": "material",
        "unemployment_registration": "material",
        "employment_started": "material",
        "utility_debt": "material",
        "utility_disconnection": "material",
        "eviction_notice": "material",
    }
)

#: Event types whose signals are context only: a low-income status is a need, not a risk.
CONTEXT_EVENT_TYPES: frozenset[str] = frozenset({"low_income_status"})

#: Event types that get the generic count/recency/trend signals.
COUNTED_EVENT_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in CONTEXT_EVENT_TYPES)

#: Domain shown for each source's coverage flag.
SOURCE_DOMAINS: Mapping[str, Domain] = MappingProxyType(
    {
        "social_protection": "material",
        "education": "child_development",
        "health": "health_disability",
        "police": "safety",
        "employment": "material",
        "housing": "material",
    }
)

#: What one record is, where the vocabulary's description names its value instead.
_RECORD_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "school_absence": (
            "Сообщения школы о пропусках без уважительной причины",
            "School reports of days missed without a valid reason",
        ),
        "kindergarten_absence": (
            "Сообщения детского сада о пропусках",
            "Kindergarten reports of days missed",
        ),
        "material_aid": (
            "Выплаты экстренной материальной помощи",
            "Emergency material aid payments",
        ),
        "utility_debt": ("Сообщения о задолженности за ЖКУ", "Utility debt reports"),
    }
)

#: Value-sum windows of a vocabulary's own ``days`` and ``roubles`` types: those of the built-in
#: types of the same unit (school absence days over 90 and 365 days, material aid over 365).
SUM_WINDOWS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {"days": (90, 365), "roubles": (365,)}
)

_WINDOW_RU = {90: "90 дней", 365: "365 дней", 1095: "3 года"}
_WINDOW_EN = {90: "90 days", 365: "365 days", 1095: "3 years"}


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:]


def _domain(et: EventType) -> Domain:
    """Built-in types take their domain from :data:`EVENT_DOMAINS`, a vocabulary's own its own."""
    return EVENT_DOMAINS.get(et.name) or cast(Domain, et.domain)


def _event_specs(extra: tuple[EventType, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for et in [EVENT_TYPES[n] for n in COUNTED_EVENT_TYPES] + list(extra):
        name = et.name
        domain = _domain(et)
        ru, en = _RECORD_NAMES.get(name, (et.description_ru, et.description_en))
        for w in WINDOWS:
            specs.append(
                FeatureSpec(
                    f"{name}_n_{w}d",
                    domain,
                    "risk",
                    "count",
                    f"{ru}: число записей за {_WINDOW_RU[w]}",
                    f"{en}: records in the last {_WINDOW_EN[w]}",
                    et.source,
                    0.0,
                )
            )
        specs.append(
            FeatureSpec(
                f"{name}_days_since",
                domain,
                "risk",
                "days",
                f"{ru}: дней с последней записи (нет записей за период наблюдения — "
                f"период + 1, по умолчанию {int(RECENCY_FILL)})",
                f"{en}: days since the most recent record (none in the lookback — "
                f"lookback + 1, {int(RECENCY_FILL)} by default)",
                et.source,
                RECENCY_FILL,
            )
        )
        specs.append(
            FeatureSpec(
                f"{name}_trend",
                domain,
                "risk",
                "per 90 days",
                f"{ru}: рост частоты — записей за последние 90 дней минус среднее за 90 дней "
                f"в предшествующие 270 дней",
                f"{en}: rising frequency — records in the last 90 days minus the 90-day "
                f"average over the 270 days before",
                et.source,
                0.0,
                "float64",
            )
        )
    return specs


def _extra_value_specs(extra: tuple[EventType, ...]) -> list[FeatureSpec]:
    """Value sums of a vocabulary's own ``days`` and ``roubles`` types."""
    specs = []
    for et in extra:
        for w in SUM_WINDOWS.get(et.unit, ()):
            if et.unit == "days":
                ru = f"{et.description_ru}: сумма дней за {_WINDOW_RU[w]}"
                en = f"{et.description_en}: days in the last {_WINDOW_EN[w]} (total)"
            else:
                ru = f"{et.description_ru}: сумма за {_WINDOW_RU[w]}"
                en = f"{et.description_en}: amount in the last {_WINDOW_EN[w]} (total)"
            specs.append(
                FeatureSpec(
                    f"{et.name}_{et.unit}_{w}d",
                    _domain(et),
                    "risk",
                    et.unit,
                    ru,
                    en,
                    et.source,
                    0.0,
                    "float64",
                )
            )
    return specs


def _value_specs() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            "school_absence_days_90d",
            "child_development",
            "risk",
            "days",
            "Дни пропусков школы без уважительной причины за 90 дней",
            "School days missed without a valid reason in the last 90 days",
            "education",
            0.0,
            "float64",
        ),
        FeatureSpec(
            "school_absence_days_365d",
            "child_development",
            "risk",
            "days",
            "Дни пропусков школы без уважительной причины за 365 дней",
            "School days missed without a valid reason in the last 365 days",
            "education",
            0.0,
            "float64",
        ),
        FeatureSpec(
            "kindergarten_absence_days_90d",
            "child_development",
            "risk",
            "days",
            "Дни пропусков детского сада за 90 дней",
            "Kindergarten days missed in the last 90 days",
            "education",
            0.0,
            "float64",
        ),
        FeatureSpec(
            "kindergarten_absence_days_365d",
            "child_development",
            "risk",
            "days",
            "Дни пропусков детского сада за 365 дней",
            "Kindergarten days missed in the last 365 days",
            "education",
            0.0,
            "float64",
        ),
        FeatureSpec(
            "material_aid_roubles_365d",
            "material",
            "risk",
            "roubles",
            "Сумма экстренной материальной помощи за 365 дней",
            "Emergency material aid received in the last 365 days (total)",
            "social_protection",
            0.0,
            "float64",
        ),
        FeatureSpec(
            # Each report states the debt at its date, so reports are not added up: the latest
            # one tells the current debt.
            "utility_debt_roubles_latest",
            "material",
            "risk",
            "roubles",
            "Задолженность за ЖКУ по последнему сообщению за 365 дней (нет сообщений — 0)",
            "Utility debt in the most recent report of the last 365 days (no report — 0)",
            "housing",
            0.0,
            "float64",
        ),
        FeatureSpec(
            "utility_debt_roubles_max_365d",
            "material",
            "risk",
            "roubles",
            "Наибольшая задолженность за ЖКУ по сообщениям за 365 дней",
            "Largest utility debt reported in the last 365 days",
            "housing",
            0.0,
            "float64",
        ),
    ]


def _composition_specs() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            "n_children",
            "child_development",
            "risk",
            "count",
            "Число детей младше 18 лет",
            "Number of children under 18",
            None,
            0.0,
        ),
        FeatureSpec(
            "youngest_child_age_years",
            "child_development",
            "risk",
            "years",
            "Возраст младшего ребёнка, полных лет",
            "Age of the youngest child, in whole years",
            None,
            0.0,
        ),
        FeatureSpec(
            "single_parent",
            "parenting_relations",
            "risk",
            "flag",
            "Один родитель или опекун в семье",
            "One parent or guardian in the family",
            None,
            0.0,
        ),
        FeatureSpec(
            "large_family",
            "material",
            "risk",
            "flag",
            "Многодетная семья (3 и более детей младше 18 лет)",
            "Large family (3 or more children under 18)",
            None,
            0.0,
        ),
        FeatureSpec(
            "months_since_registration",
            "parenting_relations",
            "risk",
            "months",
            "Полных месяцев с постановки семьи на учёт в реестре",
            "Whole months since the family entered the registry",
            None,
            0.0,
        ),
    ]


def _context_specs() -> list[FeatureSpec]:
    specs = [
        FeatureSpec(
            "low_income",
            "material",
            "context",
            "flag",
            "Статус малоимущей семьи назначен или подтверждён за 365 дней",
            "Low-income status granted or renewed in the last 365 days",
            "social_protection",
            0.0,
        ),
        FeatureSpec(
            "disabled_child",
            "health_disability",
            "context",
            "flag",
            "В семье есть ребёнок-инвалид младше 18 лет",
            "A child under 18 with a registered disability",
            None,
            0.0,
        ),
        FeatureSpec(
            "disabled_parent",
            "health_disability",
            "context",
            "flag",
            "Родитель или опекун с инвалидностью",
            "A parent or guardian with a registered disability",
            None,
            0.0,
        ),
    ]
    for source in SOURCES:
        ru, en = SOURCE_NAMES[source]
        specs.append(
            FeatureSpec(
                f"has_{source}_records",
                SOURCE_DOMAINS[source],
                "context",
                "flag",
                f"Есть записи источника «{ru}» за период наблюдения (иначе модель их не видит)",
                f"Any {_lower_first(en)} record in the lookback (if not, the model sees none)",
                source,
                0.0,
            )
        )
    return specs


@lru_cache(maxsize=16)
def _build_registry(extra: tuple[EventType, ...]) -> Mapping[str, FeatureSpec]:
    # A vocabulary's own types come after the built-in ones in each group, so the built-in
    # features keep their order in every extended registry.
    specs = (
        _event_specs(extra)
        + _value_specs()
        + _extra_value_specs(extra)
        + _composition_specs()
        + _context_specs()
    )
    registry = {s.name: s for s in specs}
    if len(registry) != len(specs):
        raise AssertionError("duplicate feature names in the registry")
    return MappingProxyType(registry)


#: Every feature of the built-in vocabulary, name -> spec, in the order of the built columns.
FEATURES: Mapping[str, FeatureSpec] = _build_registry(())


def feature_specs(vocabulary: Vocabulary | None = None) -> Mapping[str, FeatureSpec]:
    """Every feature the builders make for records of ``vocabulary``, in column order.

    Parameters
    ----------
    vocabulary : Vocabulary, optional
        Default: the built-in vocabulary, whose registry is :data:`FEATURES`. A vocabulary's own
        event types get the signals of a built-in type: counts in the 90/365/1095-day windows,
        recency and trend, and for ``days`` and ``roubles`` units value sums
        (``<type>_days_90d``, ``<type>_days_365d``, ``<type>_roubles_365d``), all ``risk``
        features in the type's domain.

    Returns
    -------
    Mapping of str to FeatureSpec
        Read-only; built once per vocabulary.

    Examples
    --------
    >>> from features import FEATURES, EventType, Vocabulary, feature_specs
    >>> vocab = Vocabulary((EventType("debt_collection", "housing", "roubles", None,
    ...     "Взыскание долга", "Debt collection", domain="material"),))
    >>> specs = feature_specs(vocab)
    >>> len(specs) - len(FEATURES), specs["debt_collection_roubles_365d"].domain
    (6, 'material')
    """
    return _build_registry(() if vocabulary is None else vocabulary.extra)


def risk_features(vocabulary: Vocabulary | None = None) -> tuple[str, ...]:
    """Names of the features the model may use, in registry order.

    Parameters
    ----------
    vocabulary : Vocabulary, optional
        Default: the built-in vocabulary (see :func:`feature_specs`).

    Examples
    --------
    >>> from features import risk_features
    >>> "low_income" in risk_features(), "n_children" in risk_features()
    (False, True)
    """
    return tuple(n for n, s in feature_specs(vocabulary).items() if s.role == "risk")


def context_features(vocabulary: Vocabulary | None = None) -> tuple[str, ...]:
    """Names of the context features (never model input), in registry order.

    Parameters
    ----------
    vocabulary : Vocabulary, optional
        Default: the built-in vocabulary (see :func:`feature_specs`).

    Examples
    --------
    >>> from features import context_features
    >>> context_features()[:3]
    ('low_income', 'disabled_child', 'disabled_parent')
    """
    return tuple(n for n, s in feature_specs(vocabulary).items() if s.role == "context")
