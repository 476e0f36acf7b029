"""The review app: a Gradio interface over the review queue, for specialists and supervisors."""

from review_app._api import API_NAMES
from review_app._app import build_app
from review_app._auth import demo_users, make_auth
from review_app._serve import serve

__all__ = ["API_NAMES", "build_app", "demo_users", "make_auth", "serve"]
