"""Launching the app: authentication by the review queue's users, loopback by default."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from review_app._i18n import LANGS, check_lang, t
from review_app._login import DEFAULT_MAX_LOGIN_AGE, AgedLoginService, LoginAges, make_aged_auth
from risk.review import ReviewQueue


def serve(
    queue: ReviewQueue,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    lang: str = "ru",
    catalog: Any = None,
    model_uri: str | None = None,
    block: bool = True,
    quiet: bool = False,
    max_login_age: timedelta = DEFAULT_MAX_LOGIN_AGE,
    notice: str | None = None,
) -> tuple[Any, str]:
    """Build the app over ``queue`` and serve it with login by the queue's users.

    Parameters
    ----------
    queue : ReviewQueue
        The review queue.
    host, port : str, int
        Where to listen (loopback by default; port 0 picks a free one).
    lang : {"ru", "en"}
        Language shown first.
    catalog : risk services catalog, optional
        See :func:`review_app.build_app`.
    model_uri : str, optional
        Shown in the header.
    block : bool
        Serve until interrupted (True) or return at once with the server running (False).
    quiet : bool
        Print nothing on start.
    max_login_age : timedelta
        Requests of a login older than this are refused and audited (default 8 hours).
    notice : str, optional
        Shown at the top of every page (see :func:`review_app.build_app`).

    Returns
    -------
    (gradio.Blocks, str)
        The running app (``close()`` it to stop a non-blocking server) and its URL.
    """
    import gradio as gr

    from review_app._app import CSS, build_app

    first = check_lang(lang)
    ages = LoginAges(queue, max_login_age)
    service = AgedLoginService(queue, ages)
    app = build_app(
        queue, lang=first, catalog=catalog, model_uri=model_uri, service=service, notice=notice
    )
    app.queue(default_concurrency_limit=16)
    message = "<br>".join(t(x, "banner") for x in (first, *(x for x in LANGS if x != first)))
    message = message.replace("**", "")
    _, url, _ = app.launch(
        server_name=host,
        server_port=port or _free_port(host),
        auth=make_aged_auth(queue, ages),
        auth_message=message,
        prevent_thread_lock=not block,
        quiet=quiet,
        show_error=True,
        ssr_mode=False,
        footer_links=[],
        theme=gr.themes.Soft(font=_FONTS, font_mono=_MONO),
        css=CSS,
    )
    return app, url


# System fonts only: specialists' machines may have no internet (no web fonts), and these
# cover Cyrillic well.
_FONTS = ("system-ui", "Segoe UI", "Roboto", "DejaVu Sans", "Arial", "sans-serif")
_MONO = ("DejaVu Sans Mono", "Consolas", "monospace")


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
