"""Every label, message and explanation of the review app, in Russian and English.

The texts themselves are in the app's gettext catalogues, one PO file per language
(:data:`CATALOGUES`); this module reads them and formats numbers, plural forms, dates and times
by the language's CLDR rules (Babel).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_decimal, format_percent

from risk.messages import LANGS, Catalogues, Lang

if TYPE_CHECKING:
    from risk.regions import RegionPack

#: The languages the app speaks are :data:`risk.messages.LANGS` (the first is the default),
#: each named in its own language for the language switch.
LANG_NAMES: dict[str, str] = {"ru": "Русский", "en": "English"}

#: The app's texts, one gettext catalogue per language:
#: ``review_app/locales/<lang>/LC_MESSAGES/review_app.po`` (docs/review_app.md, "Languages").
#: A key without a dot is a sentence or a label (:func:`t`); each table below is the keys under
#: one prefix (``decision.referred``); words counted with a number are under ``counted.``.
CATALOGUES = Catalogues(Path(__file__).parent, "review_app", plurals=("counted.",))

_TEXT: dict[str, tuple[str, ...]] = CATALOGUES.pairs("")

ROLE_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("role.")
TIER_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("tier.")
STATUS_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("status.")
DECISION_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("decision.")
#: Need domains (as ``features.DOMAIN_NAMES``; a test keeps them equal).
DOMAIN_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("domain.")
#: Record sources (as ``features._schema.SOURCE_NAMES``; a test keeps them equal).
SOURCE_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("source.")
ATTRIBUTE_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("attribute.")
#: Values of the yes/no and settlement attributes in the fairness table.
GROUP_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("group.")
FOLLOW_UP_STATUS_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("follow_up_status.")
CHANNEL_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("channel.")
STAGE_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("stage.")
OUTCOME_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("outcome.")
STEP_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("step.")
#: Audit actions as the administration tab names them in a user's history.
AUDIT_ACTION_NAMES: dict[str, tuple[str, ...]] = CATALOGUES.pairs("audit_action.")


#: District names by code, of the region the app serves (what a specialist reads instead of
#: codes): filled by :func:`use_region`, with the default region pack on first use.
DISTRICT_NAMES: dict[str, tuple[str, str]] = {}


def use_region(pack: RegionPack) -> None:
    """Show the districts' names and local times of ``pack``, the region served, from now on.

    One app process serves one region, so the names are the module's (the views and cards
    read them without being handed the region).

    Examples
    --------
    >>> from risk.regions import load_region
    >>> pack, default = load_region("novosibirsk"), load_region()
    >>> use_region(pack)
    >>> first = pack.districts[0]
    >>> district_name(first.code, "en") == first.name_en
    True
    >>> other = default.districts[0].code  # a district of another region: shown as its code
    >>> district_name(other, "en") == other
    True
    >>> use_region(default)
    """
    names = {d.code: (d.name_ru, d.name_en) for d in pack.districts}
    DISTRICT_NAMES.clear()
    DISTRICT_NAMES.update(names)
    use_timezone(pack.timezone)


def district_name(code: str, lang: Lang) -> str:
    """Return the district's name in ``lang``; an unknown code is shown as it is.

    Examples
    --------
    >>> district_name("velikiy_novgorod", "ru"), district_name("velikiy_novgorod", "en")
    ('Великий Новгород', 'Veliky Novgorod')
    >>> district_name("no_such_place", "ru")
    'no_such_place'
    """
    if not DISTRICT_NAMES:
        from risk.regions import load_region

        use_region(load_region())
    return name(DISTRICT_NAMES, str(code), lang)


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if the app speaks it.

    Raises
    ------
    ValueError
        Naming the languages available.

    Examples
    --------
    >>> check_lang("en")
    'en'
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


def t(lang: Lang, key: str, **values: object) -> str:
    """Return the text ``key`` in ``lang``, formatted with ``values``.

    Raises
    ------
    risk.messages.CatalogueError
        The catalogue has no ``key``.

    Examples
    --------
    >>> t("en", "others", n="3 signals", total="+0.2")
    'another 3 signals, together: +0.2'
    >>> t("ru", "tab_queue")
    'Моя очередь'
    """
    text = CATALOGUES.text(lang, key)
    return text.format(**values) if values else text


def name(table: Mapping[str, tuple[str, ...]], code: str, lang: Lang) -> str:
    """Return the name of ``code`` in ``table`` in ``lang`` (the code itself if unnamed).

    Examples
    --------
    >>> name(TIER_NAMES, "priority", "ru"), name(TIER_NAMES, "other", "ru")
    ('приоритетный', 'other')
    """
    pair = table.get(code)
    return code if pair is None else pair[LANGS.index(lang)]


def text_keys() -> tuple[str, ...]:
    """Every sentence and label key: the catalogue's keys without a dot (tables are dotted).

    Examples
    --------
    >>> "tab_queue" in text_keys(), "decision.referred" in text_keys()
    (True, False)
    """
    return tuple(_TEXT)


@functools.cache
def _locale(lang: Lang) -> Locale:
    return Locale.parse(lang)


def number(value: float, lang: Lang, digits: int = 0) -> str:
    r"""Format a number by the language's CLDR rules (Babel): grouping and decimal marks.

    Examples
    --------
    >>> number(12500, "ru"), number(12500, "en"), number(1.25, "ru", 1)
    ('12\xa0500', '12,500', '1,2')
    """
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(value, format=pattern, locale=_locale(lang)))


def percent(p: float, lang: Lang) -> str:
    r"""Format a probability as a percentage by CLDR rules (one decimal under 10 %).

    Examples
    --------
    >>> percent(0.0734, "ru"), percent(0.42, "en")
    ('7,3\xa0%', '42%')
    """
    pattern = "#,##0.0%" if p < 0.1 else "#,##0%"
    if lang == "ru":
        pattern = pattern.replace("%", "\u00a0%")
    return str(format_percent(p, format=pattern, locale=_locale(lang)))


def plural(n: float, lang: Lang, forms: Mapping[str, str]) -> str:
    """Pick the word for ``n`` by the language's CLDR plural category (``one``, ``few``, ...).

    ``forms`` maps categories to words; ``other`` is the fallback.

    Examples
    --------
    >>> days = {"one": "день", "few": "дня", "many": "дней", "other": "дня"}
    >>> [plural(n, "ru", days) for n in (1, 2, 5, 11, 21, 23, 1.5)]
    ['день', 'дня', 'дней', 'дней', 'день', 'дня', 'дня']
    >>> plural(1, "en", {"one": "day", "other": "days"})
    'day'
    """
    return forms.get(_locale(lang).plural_form(abs(n)), forms["other"])


def plural_ru(n: float, one: str, few: str, many: str) -> str:
    """Pick the Russian plural form for ``n`` (CLDR's rule, as :func:`plural`).

    Examples
    --------
    >>> [plural_ru(n, "день", "дня", "дней") for n in (1, 2, 5, 11, 21, 23, 1.5)]
    ['день', 'дня', 'дней', 'дней', 'день', 'дня', 'дня']
    """
    return plural(n, "ru", {"one": one, "few": few, "many": many, "other": few})


#: Words counted with a number, by CLDR plural category, one mapping per language of
#: :data:`LANGS` (keys ``counted.<word>.<category>`` of the catalogue).
COUNTED: dict[str, tuple[dict[str, str], ...]] = CATALOGUES.plural_forms("counted.")


def count(n: int, what: str, lang: Lang) -> str:
    """Say ``n`` of ``what`` (a key of :data:`COUNTED`) with the number and its plural form.

    Examples
    --------
    >>> [count(n, "working_days", "ru") for n in (1, 3, 10, 21)]
    ['1 рабочий день', '3 рабочих дня', '10 рабочих дней', '21 рабочий день']
    >>> count(1, "working_days", "en")
    '1 working day'
    """
    return f"{number(n, lang)} {plural(n, lang, COUNTED[what][LANGS.index(lang)])}"


#: The time zone times are shown in (:func:`use_timezone`); ``None``: the default region's.
_ZONE: dict[str, str] = {}


def use_timezone(zone: str | None) -> None:
    """Show times in ``zone`` (an IANA name, the region pack's ``timezone``) from now on.

    ``None`` goes back to the default region's time zone. The app serves one region, so the
    zone is the process's.
    """
    if zone is None:
        _ZONE.pop("zone", None)
    else:
        get_timezone(zone)  # an unknown name fails here, not on the first page
        _ZONE["zone"] = zone


def timezone_name() -> str:
    """Return the time zone times are shown in (the default region pack's unless set).

    Examples
    --------
    >>> timezone_name()
    'Europe/Moscow'
    """
    if "zone" not in _ZONE:
        from risk.regions import DEFAULT_REGION, load_region

        _ZONE["zone"] = load_region(DEFAULT_REGION).timezone
    return _ZONE["zone"]


def when(at: datetime | date | str, lang: Lang, *, zone: str | None = None) -> str:
    """Format a moment as a person reads it: the date in words and the local time.

    A naive time is UTC (as the store keeps it); it is shown in ``zone`` (default:
    :func:`timezone_name`). A date alone is shown without a time.

    Examples
    --------
    >>> from datetime import datetime
    >>> when(datetime(2026, 5, 3, 14, 6), "ru", zone="Europe/Moscow")
    '3 мая 2026, 17:06'
    >>> when(datetime(2026, 9, 3, 14, 6), "en", zone="Europe/Moscow")
    '3 September 2026, 17:06'
    >>> when("2026-11-12", "ru")
    '12 ноября 2026'
    """
    if isinstance(at, str):
        at = (
            datetime.fromisoformat(at) if "T" in at or " " in at.strip() else date.fromisoformat(at)
        )
    if not isinstance(at, datetime):
        return str(format_date(at, format="d MMMM y", locale=_locale(lang)))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    tz = get_timezone(zone or timezone_name())
    day = format_date(at.astimezone(tz).date(), format="d MMMM y", locale=_locale(lang))
    return f"{day}, {format_datetime(at, 'HH:mm', tzinfo=tz, locale=_locale(lang))}"


def month_label(at: date, lang: Lang) -> str:
    """Name a month with its year for a chart axis ("май 2026", "May 2026").

    Examples
    --------
    >>> from datetime import date
    >>> month_label(date(2026, 9, 1), "ru"), month_label(date(2026, 5, 1), "en")
    ('сент. 2026', 'May 2026')
    """
    return str(format_date(at, format="LLL y", locale=_locale(lang)))


def model_label(uri: str, lang: Lang) -> str:
    """Name the model for a person: what it is and which version, never a URI.

    Examples
    --------
    >>> model_label("models:/family-distress@champion", "ru")
    'Модель оценки риска (утверждённая версия)'
    >>> model_label("models:/family-distress/3", "en")
    'Risk assessment model, version 3'
    >>> model_label("family-distress@1", "ru")
    'Модель оценки риска, версия 1'
    """
    text = str(uri).removeprefix("models:/")
    version = ""
    if "@" in text:
        version = text.rsplit("@", 1)[1]
    elif "/" in text:
        version = text.rsplit("/", 1)[1]
    if version.isdigit():
        return t(lang, "model_version", version=version)
    if version:
        return t(lang, "model_approved")
    return t(lang, "model_plain")
