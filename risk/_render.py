"""The explanation text: one feature's contribution as a specialist reads it, in Russian or English.

Both :meth:`risk.Explanation.to_text` and the review app's family card render contributions
with these functions, so a value, a cut-off or a word is decided once:

* a "days since" feature whose value is beyond the model's lookback has no record in it (the
  feature's fill value is the lookback plus one day);
* numbers use a non-breaking space between thousands and a decimal comma in Russian;
* a trend is a signed change "per 90 days"; a flag is yes or no; counts, days, months and years
  take their plural form (Russian's three forms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from features import DEFAULT_LOOKBACK_DAYS
from risk._errors import ScreeningError

#: A language of the explanation text.
Lang = Literal["ru", "en"]

#: The languages the explanation is written in.
LANGS: tuple[Lang, ...] = ("ru", "en")

# The registry's descriptions end with how "no data" is filled, e.g. "(none in the lookback —
# lookback + 1, 1096 by default)": right for documentation, noise beside a family's value.
# Other trailing parentheses ("(3 or more children under 18)") say what the feature is: kept.
_FILL_NOTE = re.compile(r"\s*\([^()]* — [^()]*\)\s*$")

_UNIT_FORMS: dict[str, tuple[tuple[str, str, str], str, str]] = {
    # unit: ((ru one, few, many), en one, en many)
    "days": (("день", "дня", "дней"), "day", "days"),
    "count": (("запись", "записи", "записей"), "record", "records"),
    "years": (("год", "года", "лет"), "year", "years"),
    "months": (("месяц", "месяца", "месяцев"), "month", "months"),
}
_WORDS: dict[str, tuple[str, str]] = {
    "raises": ("повышает", "raises"),
    "lowers": ("понижает", "lowers"),
    "yes": ("да", "yes"),
    "no": ("нет", "no"),
    "no_record": ("нет записей за период наблюдения", "no record in the lookback"),
    "roubles": ("руб.", "roubles"),
    "per 90 days": ("за 90 дней", "per 90 days"),
}


def _check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ScreeningError(f"lang must be 'ru' or 'en'; got {lang!r}")
    return lang


def _word(key: str, lang: Lang) -> str:
    return _WORDS[key][LANGS.index(lang)]


def _localise(text: str, lang: Lang) -> str:
    # "12,500.5" -> "12 500,5" (the space is non-breaking: a number never wraps).
    return text.replace(",", "\u00a0").replace(".", ",") if lang == "ru" else text


def _plural_ru(x: float, forms: tuple[str, str, str]) -> str:
    if not float(x).is_integer():
        return forms[1]
    n = abs(int(x))
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def format_log_odds(x: float, lang: Lang) -> str:
    """Format a log-odds (or a sum of contributions) signed, with two decimals.

    Examples
    --------
    >>> format_log_odds(1.8, "en"), format_log_odds(-0.304, "ru")
    ('+1.80', '-0,30')
    """
    return _localise(f"{float(x):+.2f}", _check_lang(lang))


def format_value(
    value: float | None,
    unit: str,
    lang: Lang,
    *,
    feature: str = "",
    lookback_days: int | None = None,
) -> str:
    r"""Render a feature's value with its unit, as a specialist would say it.

    Parameters
    ----------
    value : float or None
        The feature's value for the family (``None`` or NaN: unknown, shown as a dash).
    unit : str
        The feature's unit in the registry (``days``, ``count``, ``roubles``, ``flag``,
        ``years``, ``months``, ``per 90 days``); another unit shows the bare number.
    lang : {"ru", "en"}
    feature : str
        The feature's name: a ``*_days_since`` feature beyond the lookback has no record.
    lookback_days : int, optional
        The model's lookback (``RiskModel.lookback_days``, the payload's ``lookback_days``);
        ``None``: the default lookback, as for payloads stored before they carried it.

    Raises
    ------
    ScreeningError
        ``lang`` is not ``'ru'`` or ``'en'``.

    Examples
    --------
    >>> format_value(23, "days", "ru"), format_value(23, "days", "en")
    ('23 дня', '23 days')
    >>> format_value(12500, "roubles", "ru"), format_value(1, "flag", "en")
    ('12\xa0500 руб.', 'yes')
    >>> format_value(1096, "days", "ru", feature="job_loss_days_since")
    'нет записей за период наблюдения'
    >>> format_value(400, "days", "en", feature="job_loss_days_since", lookback_days=365)
    'no record in the lookback'
    >>> format_value(-0.67, "per 90 days", "en"), format_value(None, "count", "en")
    ('-0.7 per 90 days', '—')
    """
    lang = _check_lang(lang)
    if value is None or math.isnan(float(value)):
        return "—"
    x = float(value)
    lookback = DEFAULT_LOOKBACK_DAYS if lookback_days is None else int(lookback_days)
    if feature.endswith("_days_since") and x > lookback:
        return _word("no_record", lang)
    if unit == "flag":
        return _word("yes" if x > 0 else "no", lang)
    if unit == "per 90 days":
        return f"{_localise(f'{x:+.1f}', lang)} {_word(unit, lang)}"
    number = _localise(f"{x:,.0f}" if x.is_integer() else f"{x:,.1f}", lang)
    if unit == "roubles":
        return f"{number} {_word(unit, lang)}"
    forms = _UNIT_FORMS.get(unit)
    if forms is None:
        return number
    if lang == "ru":
        return f"{number} {_plural_ru(x, forms[0])}"
    return f"{number} {forms[1] if x == 1 else forms[2]}"


def render_contribution(
    entry: Mapping[str, Any],
    lang: Lang,
    *,
    lookback_days: int | None = None,
    effect: bool = True,
) -> str:
    """Render one contribution as a plain sentence: what, the family's value, which way.

    Parameters
    ----------
    entry : mapping
        A contribution as the flag payload holds it (:class:`risk.PayloadContribution`):
        ``feature``, ``value``, ``contribution``, ``unit``, ``description_ru``,
        ``description_en``.
    lang : {"ru", "en"}
    lookback_days : int, optional
        The model's lookback (see :func:`format_value`).
    effect : bool
        End with whether the feature raises or lowers the score (``False``: a label).

    Raises
    ------
    ScreeningError
        ``lang`` is not ``'ru'`` or ``'en'``.

    Examples
    --------
    >>> e = {"feature": "school_absence_days_90d", "value": 23.0, "contribution": 0.41,
    ...      "unit": "days", "description_ru": "Пропуски школы за 90 дней",
    ...      "description_en": "School days missed in the last 90 days"}
    >>> render_contribution(e, "ru")
    'Пропуски школы за 90 дней: 23 дня → повышает'
    >>> render_contribution({**e, "contribution": -0.2}, "en")
    'School days missed in the last 90 days: 23 days → lowers'
    >>> render_contribution(e, "en", effect=False)
    'School days missed in the last 90 days: 23 days'
    """
    lang = _check_lang(lang)
    what = _FILL_NOTE.sub("", str(entry[f"description_{lang}"]))
    value = format_value(
        entry.get("value"),
        str(entry.get("unit", "")),
        lang,
        feature=str(entry.get("feature", "")),
        lookback_days=lookback_days,
    )
    if not effect:
        return f"{what}: {value}"
    way = _word("raises" if float(entry["contribution"]) > 0 else "lowers", lang)
    return f"{what}: {value} → {way}"
