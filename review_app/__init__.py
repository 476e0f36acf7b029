"""The review app: a Gradio interface over the review queue, for specialists and supervisors.

The names below load on first use (PEP 562), so that the ``risk`` command, which discovers this
package's ``review`` command, does not import Gradio until the app is served.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from review_app._api import API_NAMES
    from review_app._app import build_app
    from review_app._auth import demo_users, make_auth
    from review_app._serve import serve

__all__ = ["API_NAMES", "build_app", "demo_users", "make_auth", "serve"]

_HOME = {
    "API_NAMES": "review_app._api",
    "build_app": "review_app._app",
    "demo_users": "review_app._auth",
    "make_auth": "review_app._auth",
    "serve": "review_app._serve",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'review_app' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
