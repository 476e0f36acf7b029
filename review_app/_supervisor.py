"""The supervisor view: overdue and escalated items, outcomes, agreement and fairness (pure)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from review_app import _charts as charts
from review_app._card import bar_figure
from review_app._i18n import (
    ATTRIBUTE_NAMES,
    DECISION_NAMES,
    GROUP_NAMES,
    STATUS_NAMES,
    TIER_NAMES,
    Lang,
    district_name,
    name,
    percent,
    t,
    when,
)
from review_app._service import SupervisorData
from risk.review import GROUP_ATTRIBUTES, OUTREACH

if TYPE_CHECKING:
    from review_app._charts import Chart

_log = logging.getLogger(__name__)

#: Groups the fairness audit breaks decisions down by (what the queue records per item; an
#: attribute no decided item has is left out, a missing value is the group "missing").
FAIRNESS_GROUPS: tuple[str, ...] = ("district", "tier", *GROUP_ATTRIBUTES)
#: Fewest decisions for a breakdown by group.
MIN_DECISIONS = 10
#: Metrics of the fairness audit shown: outreach rate, agreement rate, mean score.
FAIRNESS_METRICS: tuple[str, ...] = ("flag_rate", "prevalence", "mean_score")


def counts(data: SupervisorData, lang: Lang) -> str:
    """Sum up: awaiting, overdue, escalated, decided and agreement with the model.

    Examples
    --------
    >>> d = pd.DataFrame({"agrees_with_model": [True, False]})
    >>> data = SupervisorData(2, 1, 1, pd.DataFrame(), d)
    >>> counts(data, "en").startswith("Awaiting decision: **2**, of which overdue: **1**")
    True
    """
    decisions = data.decisions
    agree = percent(float(decisions["agrees_with_model"].mean()), lang) if len(decisions) else "—"
    return t(
        lang,
        "sup_counts",
        waiting=data.awaiting,
        overdue=data.overdue,
        escalated=data.escalated,
        decided=len(decisions),
        agree=agree,
    )


def overdue_table(waiting: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Overdue and escalated items, longest waiting first, with localised columns."""
    late = waiting[waiting["overdue"]].sort_values("age_days", ascending=False, kind="stable")
    return pd.DataFrame(
        {
            t(lang, "col_flag"): late["flag_id"].astype("int64").to_numpy(),
            t(lang, "col_family"): late["family_id"].astype(str).to_numpy(),
            t(lang, "col_district"): [district_name(d, lang) for d in late["district"].astype(str)],
            t(lang, "col_tier"): [name(TIER_NAMES, x, lang) for x in late["tier"]],
            t(lang, "col_score"): [percent(float(x), lang) for x in late["score"]],
            t(lang, "col_age"): late["age_days"].astype("int64").to_numpy(),
            t(lang, "col_status"): [name(STATUS_NAMES, x, lang) for x in late["status"]],
            # Reassigned by a supervisor (a column only once the view reads assignees).
            **(
                {t(lang, "col_assigned"): late["assigned_to"].astype(str).to_numpy()}
                if "assigned_to" in late
                else {}
            ),
        }
    )


def follow_up_table(late: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Escalated follow-ups (no first contact in time), oldest first, with localised columns.

    Examples
    --------
    >>> from datetime import datetime
    >>> late = pd.DataFrame({"followup_id": [4], "flag_id": [9], "family_id": ["F1"],
    ...                      "district": ["x"], "opened_at": [datetime(2026, 1, 5, 9)]})
    >>> follow_up_table(late, "en").astype(str).iloc[0].tolist()
    ['9', 'F1', 'x', '5 January 2026, 12:00']
    """
    cols = ("col_flag", "col_family", "col_district", "col_fu_opened")
    if late.empty:
        return pd.DataFrame(columns=[t(lang, k) for k in cols])
    return pd.DataFrame(
        dict(
            zip(
                [t(lang, k) for k in cols],
                [
                    late["flag_id"].astype("int64").to_numpy(),
                    late["family_id"].astype(str).to_numpy(),
                    [district_name(d, lang) for d in late["district"].astype(str)],
                    [when(pd.Timestamp(x).to_pydatetime(), lang) for x in late["opened_at"]],
                ],
                strict=True,
            )
        )
    )


def outcome_figure(decisions: pd.DataFrame, lang: Lang) -> Chart:
    """Decisions by outcome as an interactive bar chart (whole-number ticks)."""
    by = decisions["decision"].value_counts() if len(decisions) else pd.Series(dtype="int64")
    data = {name(DECISION_NAMES, str(k), lang): int(v) for k, v in by.items()}
    return bar_figure(data, t(lang, "sup_by_outcome"), lang)


def agreement_table(decisions: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Per specialist: decisions recorded and the share agreeing with the model.

    Examples
    --------
    >>> d = pd.DataFrame({"user": ["a", "a", "b"], "agrees_with_model": [True, False, True]})
    >>> agreement_table(d, "en").to_dict("records")[0]
    {'Specialist': 'a', 'Decisions': 2, 'Agreement': '50%'}
    """
    if decisions.empty:
        return pd.DataFrame(columns=[t(lang, k) for k in ("col_user", "col_n", "col_agreement")])
    g = decisions.groupby("user")["agrees_with_model"].agg(["size", "mean"]).reset_index()
    return pd.DataFrame(
        {
            t(lang, "col_user"): g["user"].astype(str).to_numpy(),
            t(lang, "col_n"): g["size"].astype("int64").to_numpy(),
            t(lang, "col_agreement"): [percent(float(x), lang) for x in g["mean"]],
        }
    )


def fairness_groups(decisions: pd.DataFrame) -> list[str]:
    """Return the attributes of ``FAIRNESS_GROUPS`` that some decided item has a value of.

    Examples
    --------
    >>> fairness_groups(pd.DataFrame({"district": ["a"], "low_income": [None]}))
    ['district']
    """
    return [g for g in FAIRNESS_GROUPS if g in decisions and decisions[g].notna().any()]


def fairness_frame(decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per decision: score, ``outreach`` (someone reached out), ``agrees`` and groups.

    Group values are text (``"True"``/``"False"`` for yes/no attributes); missing ones stay
    missing, and the audit counts them as the group ``"missing"``.
    """
    groups = {}
    for g in fairness_groups(decisions):
        col = decisions[g]
        groups[g] = pd.Series(
            [
                None if pd.isna(v) else str(bool(v)) if isinstance(v, bool | np.bool_) else str(v)
                for v in col.astype(object)
            ],
            dtype=object,
        ).to_numpy()
    return pd.DataFrame(
        {
            "score": decisions["score"].astype(float).to_numpy(),
            "outreach": decisions["decision"].isin(OUTREACH).to_numpy(),
            "agrees": decisions["agrees_with_model"].astype(bool).to_numpy(),
            **groups,
        }
    )


def fairness(decisions: pd.DataFrame, lang: Lang) -> tuple[str, pd.DataFrame, Chart | None]:
    """Audit the combined human and model decisions by group with ``risk.fairness``.

    The audit's "flag" is outreach (support offered, referred, or declined by the family) and its
    "label" the specialist's agreement with the model, so ``flag_rate`` reads as the outreach
    rate and ``prevalence`` as the agreement rate of each group, beside its mean score.

    Returns
    -------
    note : str
        What the numbers mean (or that there are too few decisions).
    table : pandas.DataFrame
        One row per (attribute, group), localised, ratios to the reference group; with too few
        decisions no rows, under the same headers.
    figure : plotly.graph_objects.Figure or None
        The ratios to the reference group, drawn in the browser; None with too few decisions.
    """
    from risk.fairness import DEFAULT_BAND, AuditError, audit

    low, high = DEFAULT_BAND
    note = t(lang, "sup_fairness_note", low=low, high=high)
    if len(decisions) < MIN_DECISIONS:
        return t(lang, "sup_fairness_none"), fairness_headers(lang), None
    frame = fairness_frame(decisions)
    try:
        table = audit(
            frame,
            score="score",
            label="agrees",
            groups=fairness_groups(decisions),
            flagged="outreach",
            n_boot=0,
        )
    except AuditError as exc:
        # The audit's reason (English, with column names) is for the logs, not the page.
        _log.info("fairness table left out: %s", exc)
        return t(lang, "sup_fairness_none"), fairness_headers(lang), None
    shown = pd.DataFrame(
        {
            t(lang, "col_attribute"): [name(ATTRIBUTE_NAMES, a, lang) for a in table["attribute"]],
            t(lang, "col_group"): [
                f"{_group_name(str(a), str(g), lang)}{' *' if ref else ''}"
                for a, g, ref in zip(
                    table["attribute"], table["group"], table["is_reference"], strict=True
                )
            ],
            t(lang, "col_n"): table["n"].astype("int64").to_numpy(),
            t(lang, "col_outreach"): _with_ratio(table, "flag_rate", lang),
            t(lang, "col_agreement"): _with_ratio(table, "prevalence", lang),
            t(lang, "col_mean_score"): _with_ratio(table, "mean_score", lang),
        }
    )
    # The plot reads names too: districts and yes/no groups as the table shows them.
    named = table.assign(
        attribute=[name(ATTRIBUTE_NAMES, str(a), lang) for a in table["attribute"]],
        group=[
            _group_name(str(a), str(g), lang)
            for a, g in zip(table["attribute"], table["group"], strict=True)
        ],
    )
    figure = charts.fairness_ratios(named, FAIRNESS_METRICS, (low, high), lang)
    return note, shown, figure


#: Columns of the fairness table (keys of their labels).
FAIRNESS_COLUMNS: tuple[str, ...] = (
    "col_attribute",
    "col_group",
    "col_n",
    "col_outreach",
    "col_agreement",
    "col_mean_score",
)


def fairness_headers(lang: Lang) -> pd.DataFrame:
    """Return the fairness table with no rows: its real headers, for the empty state.

    Examples
    --------
    >>> list(fairness_headers("en"))[:3]
    ['Attribute', 'Group', 'Decisions']
    """
    return pd.DataFrame({t(lang, k): pd.Series(dtype=object) for k in FAIRNESS_COLUMNS})


def _group_name(attribute: str, group: str, lang: Lang) -> str:
    """Name a fairness group: a district by its name, a tier or yes/no value by its label.

    Examples
    --------
    >>> _group_name("district", "valdaysky", "en"), _group_name("low_income", "True", "ru")
    ('Valdaysky district', 'да')
    """
    if attribute == "district" and group != "missing":
        return district_name(group, lang)
    return name(TIER_NAMES | GROUP_NAMES, group, lang)


def _with_ratio(table: pd.DataFrame, metric: str, lang: Lang) -> list[str]:
    out = []
    for value, ratio, outside in zip(
        table[metric], table[f"{metric}_ratio"], table["outside_band"], strict=True
    ):
        mark = " !" if f"{metric}_ratio" in str(outside).split(",") else ""
        ratio_text = "—" if not np.isfinite(ratio) else f"{ratio:.2f}"
        if lang == "ru":
            ratio_text = ratio_text.replace(".", ",")
        value_text = "—" if not np.isfinite(value) else percent(float(value), lang)
        out.append(f"{value_text} ({ratio_text}){mark}")
    return out
