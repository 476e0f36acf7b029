"""Where the tests find the committed files: one helper, independent of the working directory."""

from __future__ import annotations

from pathlib import Path

#: The repository's root (this file is ``tests/paths.py``).
REPO = Path(__file__).resolve().parents[1]
#: The committed synthetic sample population (2,000 families, with ``truth/``).
SAMPLE = REPO / "data" / "synthetic" / "sample"
#: The script that writes the Novgorod and Novosibirsk packs' services catalogues.
MAKE_SERVICES = REPO / "data" / "synthetic" / "make_services.py"
#: Model definitions and documentation.
MODELS = REPO / "models"
DOCS = REPO / "docs"
