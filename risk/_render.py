"""The explanation text: one feature's contribution as a specialist reads it, in Russian or English.

Both :meth:`risk.Explanation.to_text` and the review app's family card render contributions
with these functions, so a value, a cut-off or a word is decided once:

* numbers, plural forms and percentages follow the language's CLDR rules (Babel): a
  non-breaking space between thousands and a decimal comma in Russian, Russian's plural forms;
* every value is said in its own unit: records, days, roubles, children, years, months, yes/no;
  a "days since" feature beyond the model's lookback has no record in it (its fill value is
  the lookback plus one day);
* a trend is said in words: more or fewer records than usual in the last 90 days;
* how much a signal moves the family's estimate is said in percentage points; the exact
  log-odds are one option away (``exact=True``).

The words and units are in risk's message catalogues (``risk/locales/<lang>/LC_MESSAGES/risk.po``,
keys ``unit.*`` and ``word.*``; :mod:`risk.messages`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from features import DEFAULT_LOOKBACK_DAYS
from risk._errors import ScreeningError
from risk.messages import LANGS, RISK, Lang

# The registry's descriptions end with how "no data" is filled, e.g. "(none in the lookback —
# lookback + 1, 1096 by default)": right for documentation, noise beside a family's value.
# Other trailing parentheses ("(3 or more children under 18)") say what the feature is: kept.
_FILL_NOTE = re.compile(r"\s*\([^()]* — [^()]*\)\s*$")

# A registry "count" counts records, except where the feature counts something else: the
# registry's unit says "how many", this says "how many of what".
_COUNT_NOUNS: dict[str, str] = {"n_children": "children"}

# Unit words by CLDR plural category ("other" is Russian's form for fractions), one mapping per
# language of LANGS: the keys ``unit.<unit>.<category>`` of risk's catalogues (risk.messages).
_UNIT_FORMS: dict[str, tuple[dict[str, str], ...]] = RISK.plural_forms("unit.")
_WORDS: dict[str, tuple[str, ...]] = RISK.pairs("word.")


def _check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ScreeningError(f"lang must be 'ru' or 'en'; got {lang!r}")
    return lang


def _word(key: str, lang: Lang) -> str:
    return _WORDS[key][LANGS.index(lang)]


@cache
def _locale(lang: Lang) -> Locale:
    return Locale.parse(lang)


def _number(x: float, lang: Lang, pattern: str = "#,##0.#") -> str:
    return str(format_decimal(x, format=pattern, locale=_locale(lang)))


def unit_word(x: float, unit: str, lang: Lang) -> str:
    """Return ``unit``'s word in the plural form CLDR gives ``x`` in ``lang``.

    ``unit`` is one of ``days``, ``records``, ``children``, ``years``, ``months``,
    ``roubles``, ``points`` (percentage points).

    Examples
    --------
    >>> [unit_word(n, "children", "ru") for n in (1, 3, 5, 21, 1.5)]
    ['ребёнок', 'ребёнка', 'детей', 'ребёнок', 'ребёнка']
    >>> unit_word(1, "records", "en"), unit_word(2, "records", "en")
    ('record', 'records')
    """
    lang = _check_lang(lang)
    forms = _UNIT_FORMS[unit][LANGS.index(lang)]
    category = _locale(lang).plural_form(abs(x))
    return forms.get(category, forms["other"])


def format_log_odds(x: float, lang: Lang) -> str:
    """Format a log-odds (or a sum of contributions) signed, with two decimals.

    Examples
    --------
    >>> format_log_odds(1.8, "en"), format_log_odds(-0.304, "ru")
    ('+1.80', '-0,30')
    """
    return _number(float(x), _check_lang(lang), "+#,##0.00;-#,##0.00")


def percentage_points(contribution: float, log_odds: float) -> float:
    """How far one contribution moves the family's probability, in percentage points.

    The family's probability with every contribution, less the probability without this
    one (its contribution taken out of the log-odds): exact, not a linear approximation.

    Examples
    --------
    >>> round(percentage_points(0.5, 0.0), 1), round(percentage_points(-0.5, -1.0), 1)
    (12.2, -10.9)
    """

    def p(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    return 100.0 * (p(float(log_odds)) - p(float(log_odds) - float(contribution)))


def format_points(pp: float, lang: Lang) -> str:
    """Format a change in percentage points, signed (below 0.1 shown as "<0.1").

    Examples
    --------
    >>> format_points(3.25, "ru"), format_points(-12, "en"), format_points(0.01, "en")
    ('+3,2 п. п.', '-12 percentage points', '<0.1 percentage points')
    """
    lang = _check_lang(lang)
    if abs(pp) < 0.05:
        return f"<{_number(0.1, lang)} {unit_word(2, 'points', lang)}"
    rounded = round(abs(pp), 1)
    number = _number(pp, lang, "+#,##0.#;-#,##0.#")
    return f"{number} {unit_word(rounded, 'points', lang)}"


def value_unit(feature: str, unit: str) -> str:
    """Return the unit a value is said in: the registry's, a count named by what it counts.

    Examples
    --------
    >>> value_unit("n_children", "count"), value_unit("job_loss_n_90d", "count")
    ('children', 'records')
    >>> value_unit("job_loss_days_since", "days")
    'days'
    """
    if unit == "count":
        return _COUNT_NOUNS.get(feature, "records")
    return unit


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
        ``years``, ``months``, ``per 90 days``), or a unit of :func:`unit_word`; another
        unit shows the bare number. A ``count`` is said as what the feature counts (records;
        children for ``n_children``).
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
    ('12\xa0500 рублей', 'yes')
    >>> format_value(3, "count", "en", feature="n_children")
    '3 children'
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
        return f"{_number(x, lang, '+#,##0.0;-#,##0.0')} {_word('per_90_days', lang)}"
    number = _number(x, lang, "#,##0" if x.is_integer() else "#,##0.0")
    said = value_unit(feature, unit)
    if said not in _UNIT_FORMS:
        return number
    return f"{number} {unit_word(round(x, 1), said, lang)}"


def _trend_words(x: float, lang: Lang) -> str:
    if x >= 0.05:
        return _word("more", lang)
    if x <= -0.05:
        return _word("fewer", lang)
    return _word("usual", lang)


def render_contribution(
    entry: Mapping[str, Any],
    lang: Lang,
    *,
    lookback_days: int | None = None,
    effect: bool = True,
    log_odds: float | None = None,
    exact: bool = False,
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
    log_odds : float, optional
        The family's log-odds: the effect is then said in percentage points of the family's
        estimate (:func:`percentage_points`); without it, only which way.
    exact : bool
        Add the exact figures in parentheses: a trend's value and the contribution in log-odds.

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
    >>> render_contribution(e, "en", log_odds=-1.0)
    'School days missed in the last 90 days: 23 days → raises the estimate by 7.3 percentage points'
    >>> t = {"feature": "school_absence_trend", "value": -0.7, "contribution": 0.1,
    ...      "unit": "per 90 days", "description_ru": "Пропуски: растущая частота — …",
    ...      "description_en": "School absence reports: rising frequency — …"}
    >>> render_contribution(t, "en", effect=False)
    'School absence reports: fewer records than usual in the last 90 days'
    >>> render_contribution(t, "ru", exact=True)
    'Пропуски: записей за последние 90 дней меньше обычного (-0,7 за 90 дней) → повышает (логит +0,10)'
    """  # noqa: E501
    lang = _check_lang(lang)
    what = _FILL_NOTE.sub("", str(entry[f"description_{lang}"]))
    unit = str(entry.get("unit", ""))
    raw = entry.get("value")
    if unit == "per 90 days" and raw is not None and not math.isnan(float(raw)):
        # "Rising frequency — records in the last 90 days minus ..." is the definition, not
        # what a specialist says: name the record kind, then say more or fewer than usual.
        what = what.split(":")[0]
        value = _trend_words(float(raw), lang)
        if exact:
            value += f" ({format_value(raw, unit, lang)})"
    else:
        value = format_value(
            raw,
            unit,
            lang,
            feature=str(entry.get("feature", "")),
            lookback_days=lookback_days,
        )
    if not effect:
        return f"{what}: {value}"
    c = float(entry["contribution"])
    if log_odds is None:
        way = _word("raises" if c > 0 else "lowers", lang)
    else:
        pp = percentage_points(c, log_odds)
        way = _word("raises_by" if c > 0 else "lowers_by", lang).format(
            pp=format_points(abs(pp), lang).lstrip("+")
        )
    if exact:
        way += f" ({_word('log_odds', lang).format(x=format_log_odds(c, lang))})"
    return f"{what}: {value} → {way}"
