"""The closed vocabulary of the records: tables, columns, sources, event types and outcomes.

Everything here is data, so that the documentation (``docs/records.md``), the validator and the
synthetic generator read the same source and cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "date", "float", "bool"]
Unit = Literal["count", "days", "roubles"]

SOURCES: tuple[str, ...] = (
    "social_protection",
    "education",
    "health",
    "police",
    "employment",
    "housing",
)

SOURCE_NAMES: dict[str, tuple[str, str]] = {
    "social_protection": ("Социальная защита", "Social protection"),
    "education": ("Образование", "Education"),
    "health": ("Здравоохранение", "Health"),
    "police": ("Полиция", "Police"),
    "employment": ("Занятость", "Employment"),
    "housing": ("ЖКХ", "Housing and utilities"),
}

ROLES: tuple[str, ...] = ("mother", "father", "guardian", "child")
SEXES: tuple[str, ...] = ("F", "M")
SETTLEMENTS: tuple[str, ...] = ("urban", "rural")
OUTCOME_TYPES: tuple[str, ...] = (
    "sop_registration",
    "kdn_case",
    "child_removal",
    "parental_rights_restriction",
)

OUTCOME_NAMES: dict[str, tuple[str, str]] = {
    "sop_registration": (
        "Постановка на учёт как семьи в социально опасном положении",
        "Registration as a family in a socially dangerous situation",
    ),
    "kdn_case": (
        "Дело в комиссии по делам несовершеннолетних",
        "Case at the commission on minors' affairs",
    ),
    "child_removal": ("Отобрание ребёнка", "Removal of a child"),
    "parental_rights_restriction": (
        "Ограничение или лишение родительских прав",
        "Restriction or termination of parental rights",
    ),
}

UNIT_NAMES: dict[str, tuple[str, str]] = {
    "count": ("случаев", "events"),
    "days": ("дней", "days"),
    "roubles": ("руб.", "roubles"),
}


@dataclass(frozen=True)
class EventType:
    """One event type of the closed vocabulary.

    Attributes
    ----------
    name : str
        Code used in ``events.event_type``.
    source : str
        The agency that records it (one of :data:`SOURCES`).
    unit : {"count", "days", "roubles"}
        Meaning of ``events.value``: ``count`` events carry no value (null), ``days`` and
        ``roubles`` events must carry a non-negative value.
    member_role : {"child", "parent", None}
        Whose record it is when ``member_id`` is set; ``None`` for family-level records.
    description_ru, description_en : str
        What a specialist reads.
    domain : str or None
        Need domain of the type's signals (one of ``features.DOMAINS``). ``None`` for the
        built-in types, whose domains the feature registry holds (``EVENT_DOMAINS``); a type of a
        region's vocabulary (``features.load_vocabulary``) names its own.
    synthetic_rate : float or None
        For the synthetic generator: records per family-year at average distress. ``None`` for
        the built-in types, which the generator models itself, and when a vocabulary omits it.
    """

    name: str
    source: str
    unit: Unit
    member_role: Literal["child", "parent"] | None
    description_ru: str
    description_en: str
    domain: str | None = None
    synthetic_rate: float | None = None


EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in (
        EventType(
            "low_income_status",
            "social_protection",
            "count",
            None,
            "Семье назначен или подтверждён статус малоимущей",
            "Low-income status granted or renewed",
        ),
        EventType(
            "benefit_application",
            "social_protection",
            "count",
            "parent",
            "Обращение за мерами социальной поддержки",
            "Application for social support",
        ),
        EventType(
            "social_contract",
            "social_protection",
            "count",
            "parent",
            "Заключён социальный контракт",
            "Social contract signed",
        ),
        EventType(
            "material_aid",
            "social_protection",
            "roubles",
            "parent",
            "Экстренная материальная помощь (сумма)",
            "Emergency material aid (amount)",
        ),
        EventType(
            "school_absence",
            "education",
            "days",
            "child",
            "Пропуски школы без уважительной причины за месяц",
            "School days missed without a valid reason in a month",
        ),
        EventType(
            "academic_failure",
            "education",
            "count",
            "child",
            "Неаттестация или академическая неуспеваемость",
            "Failed assessment or academic failure",
        ),
        EventType(
            "school_conduct_report",
            "education",
            "count",
            "child",
            "Сообщение школы о поведении или состоянии ребёнка",
            "School report on a child's behaviour or condition",
        ),
        EventType(
            "kindergarten_absence",
            "education",
            "days",
            "child",
            "Пропуски детского сада за месяц",
            "Kindergarten days missed in a month",
        ),
        EventType(
            "missed_checkup",
            "health",
            "count",
            "child",
            "Пропущен плановый осмотр или прививка ребёнка",
            "Child's scheduled check-up or vaccination missed",
        ),
        EventType(
            "child_emergency_visit",
            "health",
            "count",
            "child",
            "Экстренное обращение за помощью ребёнку (травма, отравление)",
            "Emergency care for a child (injury, poisoning)",
        ),
        EventType(
            "parent_addiction_care",
            "health",
            "count",
            "parent",
            "Обращение родителя к наркологу",
            "Parent seen by an addiction service",
        ),
        EventType(
            "parent_serious_illness",
            "health",
            "count",
            "parent",
            "Тяжёлое заболевание родителя",
            "Serious illness of a parent",
        ),
        EventType(
            "domestic_disturbance_call",
            "police",
            "count",
            None,
            "Вызов полиции по семейному конфликту",
            "Police call-out to a family conflict",
        ),
        EventType(
            "parent_administrative_offence",
            "police",
            "count",
            "parent",
            "Административное правонарушение родителя",
            "Administrative offence by a parent",
        ),
        EventType(
            "juvenile_offence",
            "police",
            "count",
            "child",
            "Правонарушение несовершеннолетнего",
            "Offence by a minor",
        ),
        EventType(
            "job_loss",
            "employment",
            "count",
            "parent",
            "Потеря работы",
            "Job loss",
        ),
        EventType(
            "unemployment_registration",
            "employment",
            "count",
            "parent",
            "Постановка на учёт в центре занятости",
            "Registered as unemployed",
        ),
        EventType(
            "employment_started",
            "employment",
            "count",
            "parent",
            "Трудоустройство",
            "Started a job",
        ),
        EventType(
            "utility_debt",
            "housing",
            "roubles",
            None,
            "Задолженность за жилищно-коммунальные услуги (сумма на дату сообщения)",
            "Utility debt (amount at the date of the report)",
        ),
        EventType(
            "utility_disconnection",
            "housing",
            "count",
            None,
            "Ограничение или отключение коммунальных услуг",
            "Utilities restricted or disconnected",
        ),
        EventType(
            "eviction_notice",
            "housing",
            "count",
            None,
            "Иск или предупреждение о выселении",
            "Eviction claim or notice",
        ),
    )
}


@dataclass(frozen=True)
class Column:
    """One column of a record table."""

    name: str
    kind: Kind
    required: bool
    description: str
    codes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """One record table: its file name, id column and columns."""

    name: str
    id_column: str | None
    columns: tuple[Column, ...]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in schema order."""
        return tuple(c.name for c in self.columns)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "families",
            "family_id",
            (
                Column("family_id", "string", True, "Pseudonymous family id"),
                Column("district", "string", True, "District (municipal area) of residence"),
                Column("settlement", "string", True, "Urban or rural settlement", SETTLEMENTS),
                Column("registered_on", "date", True, "Date the family entered the registry"),
            ),
            "One row per family with children.",
        ),
        Table(
            "members",
            "member_id",
            (
                Column("member_id", "string", True, "Pseudonymous member id"),
                Column("family_id", "string", True, "Family the member belongs to"),
                Column("role", "string", True, "Role in the family", ROLES),
                Column("birth_date", "date", True, "Date of birth"),
                Column("sex", "string", True, "Sex", SEXES),
                Column("disability", "bool", True, "Registered disability"),
            ),
            "Parents, guardians and children of each family.",
        ),
        Table(
            "events",
            "event_id",
            (
                Column("event_id", "string", True, "Pseudonymous record id"),
                Column("family_id", "string", True, "Family the record is about"),
                Column("member_id", "string", False, "Member the record is about (nullable)"),
                Column("source", "string", True, "Agency that recorded it", SOURCES),
                Column("event_type", "string", True, "Type of record", tuple(EVENT_TYPES)),
                Column("event_date", "date", True, "Date of the record"),
                Column(
                    "value",
                    "float",
                    False,
                    "Amount; unit depends on the event type (null for counts)",
                ),
            ),
            "Records agencies hold about a family, one row per record.",
        ),
        Table(
            "outcomes",
            None,
            (
                Column("family_id", "string", True, "Family the outcome concerns"),
                Column("outcome_date", "date", True, "Date of the outcome"),
                Column("outcome_type", "string", True, "Type of outcome", OUTCOME_TYPES),
            ),
            "Registered outcomes. Labels only: never features.",
        ),
    )
}

#: Dates before this are absurd for any record.
EARLIEST_DATE = "1900-01-01"
