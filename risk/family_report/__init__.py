"""A family's own view of its data: what is held, what was used, who decided, how to dispute.

``build_family_report`` is pure (records, the store's view of the family, the catalogue);
``render_html`` and ``render_pdf`` print it; ``produce_family_report`` reads the review store
for an acting user (district access checked, the report audited). It never shows a score.
"""

from risk.family_report._build import (
    DecisionLine,
    DisputeLine,
    FamilyReport,
    FollowUpLine,
    OfferedService,
    RecordType,
    ScreeningUse,
    SourceRecords,
    StoreView,
    build_family_report,
)
from risk.family_report._html import render_html
from risk.family_report._pdf import render_pdf
from risk.family_report._produce import (
    FORMATS,
    check_out,
    produce_family_report,
    region_context,
    write_family_report,
)

__all__ = [
    "FORMATS",
    "DecisionLine",
    "DisputeLine",
    "FamilyReport",
    "FollowUpLine",
    "OfferedService",
    "RecordType",
    "ScreeningUse",
    "SourceRecords",
    "StoreView",
    "build_family_report",
    "check_out",
    "produce_family_report",
    "region_context",
    "render_html",
    "render_pdf",
    "write_family_report",
]
