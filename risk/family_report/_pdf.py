"""The family report as PDF, through WeasyPrint (which needs the Pango system libraries)."""

from __future__ import annotations

import os
from pathlib import Path

from features import UnavailableError
from risk.family_report._build import FamilyReport
from risk.family_report._html import render_html


def render_pdf(report: FamilyReport, path: str | os.PathLike[str] | None = None) -> bytes:
    """Render the report as PDF; write it to ``path`` when given and return its bytes.

    Raises
    ------
    UnavailableError
        WeasyPrint or its system libraries (Pango) are missing.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise UnavailableError(
            f"PDF needs WeasyPrint and the Pango libraries "
            f"(apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}"
        ) from exc
    data = bytes(weasyprint.HTML(string=render_html(report)).write_pdf() or b"")
    if path is not None:
        Path(path).write_bytes(data)
    return data
