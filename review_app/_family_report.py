"""The card's "Report for the family" button: the family's own view of its data, as a file.

The report is built by ``risk.family_report`` from what the review store holds about the open
card's family, for the logged-in user: the store checks the user's districts and writes the
report to the audit log. It shows no score. PDF when WeasyPrint is installed, else HTML.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from review_app._i18n import Lang, t
from review_app._refusals import refusal, refused
from review_app._service import ReviewService
from risk import UnavailableError
from risk.review import ReviewError, StoreUnavailable


def report_file(
    service: ReviewService,
    username: str | None,
    family_id: str,
    lang: Lang,
    *,
    catalog: Any = None,
    directory: str | Path | None = None,
) -> Path:
    """Write the family's report for ``username``; return the file (PDF, else HTML).

    Raises
    ------
    risk.review.AccessDenied, risk.review.UnknownItem
        As the store decides (the refusal is audited).
    """
    from risk.family_report import produce_family_report, render_html, render_pdf

    user = service.user(username)
    report = produce_family_report(service.queue, family_id, user.name, catalog=catalog, lang=lang)
    folder = Path(directory or tempfile.mkdtemp(prefix="family-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"family-report-{family_id}-{lang}"
    try:
        return _written(stem.with_suffix(".pdf"), render_pdf(report))
    except UnavailableError:  # no WeasyPrint here: the same report as a printable page
        return _written(stem.with_suffix(".html"), render_html(report).encode("utf-8"))


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


class FamilyReportUI:
    """The button and the file it produces, under the family card."""

    def __init__(self, lang: Lang, service: ReviewService, catalog: Any = None) -> None:
        self.lang = lang
        self.service = service
        self.catalog = catalog
        with gr.Row():
            self.button = gr.Button(t(lang, "family_report_btn"), size="sm", scale=0)
            self.note = gr.Markdown("", elem_classes="family-report-note")
        self.file = gr.File(label=t(lang, "family_report_file"), visible=False, interactive=False)

    def wire(self, card_state: Any) -> None:
        """Produce the file for the open card when the button is clicked (private event)."""
        self.button.click(
            self.produce, [card_state], [self.file, self.note], api_visibility="private"
        )

    def produce(self, state: tuple[int, str, str] | None, request: gr.Request) -> list[Any]:
        """Build the open card's family report; show the file or the reason it was refused."""
        L = self.lang
        if not state:
            return [gr.update(value=None, visible=False), refused(t(L, "err_no_card"), L)]
        family_id = str(state[1])
        try:
            path = report_file(self.service, request.username, family_id, L, catalog=self.catalog)
        except (ReviewError, StoreUnavailable) as exc:
            return [gr.update(value=None, visible=False), refused(refusal(exc, L), L)]
        return [gr.update(value=str(path), visible=True), t(L, "family_report_done")]
