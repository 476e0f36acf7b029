"""The edge: read what the review store holds about a family, build the report, write the file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from features import InputError
from risk._io import write_atomically
from risk.family_report._build import FamilyReport, StoreView, build_family_report
from risk.family_report._html import render_html
from risk.family_report._pdf import render_pdf
from risk.family_report._text import check_lang

if TYPE_CHECKING:
    from features import Records
    from risk import ServiceCatalog
    from risk.review import ReviewQueue, User

#: File types ``write_family_report`` writes, by suffix.
FORMATS: tuple[str, ...] = (".html", ".pdf")


def _follow_ups(queue: Any, family_id: str, user: Any) -> tuple[Mapping[str, Any], ...] | None:
    """Return the family's follow-ups with their steps; None: the store keeps none."""
    list_follow_ups = getattr(queue, "follow_ups", None)
    list_steps = getattr(queue, "follow_up_events", None)
    if not callable(list_follow_ups) or not callable(list_steps):
        return None
    frame: pd.DataFrame = list_follow_ups(family_id=family_id, user=user)
    out: list[Mapping[str, Any]] = []
    for row in frame.to_dict("records"):
        steps = list_steps(int(row["followup_id"]), user)
        out.append(
            {**{str(k): v for k, v in row.items()}, "steps": tuple(steps.to_dict("records"))}
        )
    return tuple(out)


def produce_family_report(
    queue: ReviewQueue,
    family_id: str,
    user: User | str,
    *,
    records: Records | None = None,
    catalog: ServiceCatalog | None = None,
    lang: str = "ru",
    district_names: Mapping[str, str] | None = None,
    record_types: Mapping[str, tuple[str, str]] | None = None,
) -> FamilyReport:
    """Build a family's own report for ``user``, from the review store and the records.

    The store checks that ``user`` may see the family's district (a refusal is audited) and
    logs the report as a ``family_report`` action.

    Parameters
    ----------
    queue : risk.review.ReviewQueue
        The review store.
    family_id : str
        The family.
    user : risk.review.User or str
        The acting specialist.
    records : features.Records, optional
        The record tables; None: the records the screenings showed.
    catalog, lang, district_names, record_types
        As in :func:`build_family_report`.

    Raises
    ------
    risk.review.AccessDenied
        The user has no access to the family's district.
    risk.review.UnknownItem
        The family is not in the review queue.

    Examples
    --------
    >>> from risk import example_payload
    >>> from risk.review import ReviewQueue
    >>> import pandas as pd
    >>> q = ReviewQueue("sqlite://")
    >>> _ = q.add_user("anna", "correct horse", "specialist", ["north"])
    >>> class Run:
    ...     scores = pd.DataFrame({"family_id": ["f1"], "district": ["north"], "score": [0.4],
    ...         "log_odds": [-0.4], "tier": ["priority"], "flagged": [True],
    ...         "rank_in_district": [1], "model_version": "m@1", "as_of": "2025-06-30",
    ...         "advisory": "Advisory only."})
    ...     def flag_payloads(self):
    ...         return {"f1": example_payload("f1", district="north")}
    >>> _ = q.enqueue(Run(), "run-1")
    >>> produce_family_report(q, "f1", "anna", lang="en").family_id
    'f1'
    >>> q.audit_log()["action"].tolist()[-1]
    'family_report'
    """
    check_lang(lang)  # before the store is read and the report audited
    held = queue.family_record(family_id, user)
    view = StoreView(
        district=held.district,
        flags=held.flags,
        decisions=held.decisions,
        disputes=held.disputes,
        follow_ups=_follow_ups(queue, family_id, user),
    )
    return build_family_report(
        records,
        family_id,
        store_view=view,
        catalog=catalog,
        lang=lang,
        district_names=district_names,
        record_types=record_types,
    )


def check_out(out: str | os.PathLike[str]) -> Path:
    """Return ``out`` as a path if it names an HTML or PDF file.

    Raises
    ------
    InputError
        The suffix is neither ``.html`` nor ``.pdf``.

    Examples
    --------
    >>> check_out("report.PDF").name
    'report.PDF'
    """
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"family report: --out must end in .html or .pdf; got {path.name!r}")
    return path


def write_family_report(report: FamilyReport, out: str | os.PathLike[str]) -> Path:
    """Write the report as HTML or PDF, by the suffix of ``out``; return the path.

    Raises
    ------
    InputError
        The suffix is neither ``.html`` nor ``.pdf``.
    """
    path = check_out(out)
    suffix = path.suffix.lower()
    data = render_pdf(report) if suffix == ".pdf" else render_html(report).encode("utf-8")
    write_atomically(path, lambda target: Path(target).write_bytes(data))
    return path


def region_context(
    pack: str | os.PathLike[str] | None, lang: str
) -> tuple[ServiceCatalog, dict[str, str], dict[str, tuple[str, str]]]:
    """Return the catalogue, district names and own record types of a region pack.

    None: the packaged catalogue, and the district names of every shipped region.

    Examples
    --------
    >>> catalog, names, types = region_context("novgorod", "en")
    >>> names["velikiy_novgorod"], types
    ('Veliky Novgorod', {})
    """
    from features import EVENT_TYPES, load_vocabulary
    from risk import ServiceCatalog, load_catalog
    from risk.regions import load_region, shipped_regions

    packs = [load_region(pack)] if pack is not None else [load_region(p) for p in shipped_regions()]
    names = {d.code: (d.name_ru if lang == "ru" else d.name_en) for p in packs for d in p.districts}
    if pack is None:
        return load_catalog(), names, {}
    types: dict[str, tuple[str, str]] = {}
    if packs[0].vocabulary_path is not None:
        vocabulary = load_vocabulary(packs[0].vocabulary_path)
        for name, e in vocabulary.event_types.items():
            if name not in EVENT_TYPES:
                types[name] = (e.description_ru, e.description_en)
    return ServiceCatalog.from_region(packs[0]), names, types
