"""The composition root: the ``risk`` command, built from what every package contributes.

``family_risk`` stands above ``features``, ``risk``, ``training`` and ``review_app``: it may import
any of them and none of them imports it. ``build_app`` builds the ``risk`` command from the
``risk.commands`` entry points, ``main`` runs it.
"""

from family_risk.cli import ENTRY_POINT_GROUP, build_app, main

__all__ = ["ENTRY_POINT_GROUP", "build_app", "main"]
