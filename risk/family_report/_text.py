"""Every sentence of the family report, in Russian and English (plain words, no codes)."""

from __future__ import annotations

from datetime import date
from typing import Literal

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")

_MONTHS_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "Сведения о семье в системе ранней поддержки",
        "What the early support system holds about your family",
    ),
    "ref": ("Номер семьи в системе: {family}", "Your family's reference: {family}"),
    "district": ("Район: {district}", "District: {district}"),
    "made": ("Документ подготовлен {date}.", "Prepared on {date}."),
    "intro": (
        "Этот документ объясняет, какие сведения о вашей семье есть в системе ранней поддержки "
        "семей, как они использовались и как их исправить. Система помогает специалистам "
        "заметить семьи, которым может пригодиться помощь. Она ничего не решает сама: "
        "решение всегда принимает человек, а помощь — добровольное предложение.",
        "This document explains what the early family support system holds about your family, "
        "how it was used and how to correct it. The system helps specialists notice families "
        "who might welcome help. It decides nothing by itself: a person always decides, and "
        "help is a voluntary offer.",
    ),
    "h_sources": ("Какие сведения о семье есть в системе", "What records the system holds"),
    "sources_intro": (
        "Сведения передают ведомства. Для каждого указано, сколько записей есть и за какие даты.",
        "The records come from public agencies. For each, the number of records and their dates.",
    ),
    "register": (
        "Реестр семей: членов семьи — {n}; семья внесена в реестр {date}.",
        "Family register: {n} family members; the family was registered on {date}.",
    ),
    "no_records": ("Записей ведомств о семье нет.", "No agency holds records about the family."),
    "col_source": ("Ведомство", "Agency"),
    "col_type": ("Что записано", "What the record is"),
    "col_count": ("Записей", "Records"),
    "col_dates": ("Даты", "Dates"),
    "dates": ("с {first} по {last}", "{first} to {last}"),
    "one_date": ("{first}", "{first}"),
    "h_used": ("Какие сведения использовались", "Which records were used"),
    "used": (
        "Проверка на {as_of}: учитывались только записи за {days} дней до этой даты "
        "(с {start} по {as_of}) — {n} записей. Ведомства: {sources}.",
        "Review as of {as_of}: only records of the {days} days before that date were used "
        "({start} to {as_of}), {n} records. Agencies: {sources}.",
    ),
    "used_disputed": (
        "Из них оспорено: {n}. Оспоренные записи не учитываются, когда семью рассматривают снова.",
        "Disputed among them: {n}. Disputed records are left out when the family is looked at "
        "again.",
    ),
    "used_none": (
        "Сведения о семье ещё не рассматривались.",
        "The family's records have not been reviewed yet.",
    ),
    "h_decided": ("Кто принял решение", "Who decided"),
    "decided_intro": (
        "Решение принимает специалист, а не компьютерная программа. Программа только помогает "
        "выбрать, с какой семьи начать.",
        "A specialist decides, not a computer program. The program only helps choose which "
        "family to look at first.",
    ),
    "decision": (
        "{date}: {role} решил(а): «{decision}».",
        "{date}: a {role} decided: “{decision}”.",
    ),
    "why": ("Пояснение специалиста:", "The specialist's explanation:"),
    "awaiting": (
        "Решение ещё не принято: сведения ждут рассмотрения специалистом.",
        "No decision yet: the records are waiting for a specialist.",
    ),
    "h_offered": ("Что было предложено", "What was offered"),
    "offered_none": ("Услуги не предлагались.", "No services were offered."),
    "offered_note": (
        "Предложение добровольное: семья вправе отказаться, и отказ ни на что не влияет.",
        "The offer is voluntary: the family may decline, and declining has no consequences.",
    ),
    "h_after": ("Что было после предложения", "What happened after the offer"),
    "after_opened": (
        "Сопровождение начато {date}. Состояние: {status}.",
        "Follow-up started on {date}. Status: {status}.",
    ),
    "after_closed": ("Завершено {date}: {outcome}.", "Closed on {date}: {outcome}."),
    "contact": (
        "{date}: связь — {channel}; {reached}.",
        "{date}: contact by {channel}; {reached}.",
    ),
    "reached": ("с семьёй удалось связаться", "the family was reached"),
    "not_reached": ("связаться не удалось", "the family was not reached"),
    "service_step": ("{date}: «{service}» — {stage}.", "{date}: “{service}”, {stage}."),
    "declined_step": ("{date}: семья отказалась от помощи.", "{date}: the family declined help."),
    "note_step": ("{date}: запись специалиста.", "{date}: a specialist's note."),
    "h_disputes": ("Оспоренные записи", "Disputed records"),
    "dispute_line": (
        "«{record}» от {record_date}: оспорена {date}. Причина: ",
        "“{record}” of {record_date}: disputed on {date}. Reason: ",
    ),
    "dispute_unknown": ("запись", "a record"),
    "h_dispute": ("Как исправить или оспорить запись", "How to correct or dispute a record"),
    "dispute_steps": (
        "Скажите специалисту, который работает с вашей семьёй, какая запись неверна и почему. "
        "|Специалист отмечает запись как оспоренную; это фиксируется в журнале системы. "
        "|Оспоренная запись не учитывается, когда сведения о семье рассматривают снова. "
        "|Ведомство, передавшее запись, проверяет её и исправляет, если она неверна.",
        "Tell the specialist who works with your family which record is wrong and why. "
        "|The specialist marks the record as disputed; this is written in the system's log. "
        "|A disputed record is left out when the family's records are looked at again. "
        "|The agency that sent the record checks it and corrects it if it is wrong.",
    ),
    "legal": (
        "Основание: статья 14 Федерального закона от 27.07.2006 № 152-ФЗ «О персональных "
        "данных» — право семьи знать, какие сведения о ней обрабатываются, и требовать их "
        "уточнения, если они неполные, устаревшие или неточные.",
        "Legal basis: Article 14 of Federal Law No. 152-FZ of 27 July 2006 “On Personal Data”: "
        "the right to know which data about you are processed and to require that incomplete, "
        "outdated or inaccurate data be corrected.",
    ),
    "other_type": ("другая запись ведомства", "another agency record"),
    "unknown_service": ("услуга из каталога района", "a service of the district's catalogue"),
}

DECISION_NAMES: dict[str, tuple[str, str]] = {
    "support_offered": ("предложить семье помощь", "offer the family help"),
    "no_outreach_needed": ("помощь сейчас не требуется", "no help is needed now"),
    "referred": ("направить к другому специалисту", "refer to another specialist"),
    "insufficient_information": (
        "сведений недостаточно для решения",
        "not enough information to decide",
    ),
    "family_declined": ("семья отказалась от помощи", "the family declined help"),
}
ROLE_NAMES: dict[str, tuple[str, str]] = {
    "specialist": ("специалист", "specialist"),
    "supervisor": ("руководитель", "supervisor"),
    "admin": ("администратор", "administrator"),
}
FOLLOW_UP_STATUS_NAMES: dict[str, tuple[str, str]] = {
    "open": ("идёт", "under way"),
    "escalated": ("передано руководителю", "passed to a supervisor"),
    "closed": ("завершено", "closed"),
}
OUTCOME_NAMES: dict[str, tuple[str, str]] = {
    "completed": ("помощь оказана", "help was given"),
    "declined": ("семья отказалась", "the family declined"),
    "unreachable": ("связаться не удалось", "the family could not be reached"),
    "moved": ("семья переехала", "the family moved"),
    "referred_on": ("передано в другую службу", "passed on to another service"),
}
CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    "phone": ("телефон", "phone"),
    "visit": ("визит", "visit"),
    "letter": ("письмо", "letter"),
    "messenger": ("мессенджер", "messenger"),
    "other": ("другой способ", "other means"),
}
STAGE_NAMES: dict[str, tuple[str, str]] = {
    "accepted": ("семья согласилась", "the family accepted"),
    "started": ("начата", "started"),
    "completed": ("завершена", "completed"),
}


def t(lang: Lang, key: str, **values: object) -> str:
    """Return the sentence ``key`` in ``lang``, filled with ``values``.

    Examples
    --------
    >>> t("en", "ref", family="F-17")
    "Your family's reference: F-17"
    """
    ru, en = TEXT[key]
    return (ru if lang == "ru" else en).format(**values)


def word(names: dict[str, tuple[str, str]], code: str, lang: Lang, fallback: str = "—") -> str:
    """Return the name of ``code`` in ``lang``; an unknown code is never shown as it is.

    Examples
    --------
    >>> word(DECISION_NAMES, "referred", "ru")
    'направить к другому специалисту'
    >>> word(DECISION_NAMES, "x_internal", "en")
    '—'
    """
    pair = names.get(code)
    if pair is None:
        return fallback
    return pair[0] if lang == "ru" else pair[1]


def day(value: date, lang: Lang) -> str:
    """Return a date in words as people write it.

    Examples
    --------
    >>> from datetime import date
    >>> day(date(2025, 3, 7), "ru"), day(date(2025, 3, 7), "en")
    ('7 марта 2025', '7 March 2025')
    """
    months = _MONTHS_RU if lang == "ru" else _MONTHS_EN
    return f"{value.day} {months[value.month - 1]} {value.year}"


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if the report speaks it, else raise ``InputError``."""
    from features import InputError

    if lang not in LANGS:
        raise InputError(f"family report: lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang
