"""Which language a page opens in: the address's ``?lang=``, else the browser's, else the server's.

Gradio's own login page speaks the browser's language (its front end ships Russian and English
and follows ``navigator.language``, which browsers derive from the same setting as the
``Accept-Language`` header). The app opens in that same language after login, so a specialist
whose browser is in Russian sees Russian from the login form on, whatever language the server
was started with; ``?lang=en`` in the address overrides it, and the switch at the top of every
page changes it at any time. The server's ``--lang`` is the language for a browser that asks
for neither.
"""

from __future__ import annotations

from review_app._i18n import LANGS, Lang


def preferred_language(query: str | None, accept_language: str | None, default: Lang) -> Lang:
    """Return the language a page opens in.

    Parameters
    ----------
    query : str, optional
        The address's ``lang`` parameter.
    accept_language : str, optional
        The browser's ``Accept-Language`` header.
    default : {"ru", "en"}
        The server's language.

    Examples
    --------
    >>> preferred_language(None, "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "en")
    'ru'
    >>> preferred_language(None, "de-DE,de;q=0.9,en;q=0.5,ru;q=0.4", "ru")
    'en'
    >>> preferred_language("en", "ru-RU,ru;q=0.9", "ru")
    'en'
    >>> preferred_language("fr", "fr-FR", "ru")
    'ru'
    """
    if query in LANGS:
        return query
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > 0:
            ranked.append((-q, i, primary))
    if not ranked:
        return default
    return min(ranked)[2]  # type: ignore[return-value]
