"""Every sentence of the family report, in Russian and English (plain words, no codes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from babel.dates import format_date

from risk.messages import LANGS, RISK, Lang

#: The report's sentences: keys ``report.*`` of risk's message catalogues
#: (``risk/locales/<lang>/LC_MESSAGES/risk.po``, :mod:`risk.messages`).
TEXT: dict[str, tuple[str, ...]] = RISK.pairs("report.")

DECISION_NAMES: dict[str, tuple[str, ...]] = RISK.pairs("report.decision.")
ROLE_NAMES: dict[str, tuple[str, ...]] = RISK.pairs("report.role.")
FOLLOW_UP_STATUS_NAMES: dict[str, tuple[str, ...]] = RISK.pairs("report.follow_up_status.")
OUTCOME_NAMES: dict[str, tuple[str, ...]] = RISK.pairs("report.outcome.")
CHANNEL_NAMES: dict[str, tuple[str, ...]] = RISK.pairs("report.channel.")
STAGE_NAMES: dict[str, tuple[str, ...]] = RISK.pairs("report.stage.")


def t(lang: Lang, key: str, **values: object) -> str:
    """Return the sentence ``key`` in ``lang``, filled with ``values``.

    Examples
    --------
    >>> t("en", "ref", family="F-17")
    "Your family's reference: F-17"
    """
    return RISK.text(lang, f"report.{key}").format(**values)


def word(names: Mapping[str, tuple[str, ...]], code: str, lang: Lang, fallback: str = "—") -> str:
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
    return pair[LANGS.index(lang)]


def day(value: date, lang: Lang) -> str:
    """Return a date in words as people write it (CLDR's month names, Babel).

    Examples
    --------
    >>> from datetime import date
    >>> day(date(2025, 3, 7), "ru"), day(date(2025, 3, 7), "en")
    ('7 марта 2025', '7 March 2025')
    """
    return str(format_date(value, format="d MMMM y", locale=lang))


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if the report speaks it, else raise ``InputError``."""
    from features import InputError

    if lang not in LANGS:
        raise InputError(f"family report: lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang
