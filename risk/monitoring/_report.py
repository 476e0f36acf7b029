"""Scoring runs side by side: thresholds, the terminal table and the HTML report (pure)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Thresholds:
    """When a series of scoring runs needs attention (``[monitoring]`` of the model definition).

    Attributes
    ----------
    psi_warn, psi_alert : float
        PSI of the score or of any feature from which a run is reported, and from which it fails
        the check.
    max_degraded_runs : int
        Degraded runs tolerated among those read.
    min_expected_precision : float
        Expected precision at capacity (over all districts) below which a run fails the check.
    """

    psi_warn: float = 0.1
    psi_alert: float = 0.25
    max_degraded_runs: int = 0
    min_expected_precision: float = 0.0


@dataclass(frozen=True)
class Breach:
    """One threshold crossed by one run (or by the series, for degraded runs)."""

    level: Literal["warn", "alert"]
    run: str
    message: str


def check_thresholds(runs: pd.DataFrame, thresholds: Thresholds) -> list[Breach]:
    """Every threshold the runs cross, alerts and warnings, in run order.

    Examples
    --------
    >>> runs = pd.DataFrame({"run_name": ["r1"], "score_psi": [0.3], "max_feature_psi": [0.05],
    ...     "max_psi_feature": ["x"], "degraded": [False], "missing_feeds": ["none"],
    ...     "expected_precision": [0.4]})
    >>> [(b.level, b.message) for b in check_thresholds(runs, Thresholds())]
    [('alert', 'score PSI 0.300 >= 0.25')]
    """
    out: list[Breach] = []
    t = thresholds
    for row in runs.to_dict("records"):
        name = str(row["run_name"])
        for what, value in (
            ("score PSI", float(row["score_psi"])),
            (f"PSI of {row['max_psi_feature'] or 'a feature'}", float(row["max_feature_psi"])),
        ):
            if np.isfinite(value) and value >= t.psi_alert:
                out.append(Breach("alert", name, f"{what} {value:.3f} >= {t.psi_alert}"))
            elif np.isfinite(value) and value >= t.psi_warn:
                out.append(Breach("warn", name, f"{what} {value:.3f} >= {t.psi_warn}"))
        precision = float(row["expected_precision"])
        if np.isfinite(precision) and precision < t.min_expected_precision:
            out.append(
                Breach(
                    "alert",
                    name,
                    f"expected precision {precision:.3f} < {t.min_expected_precision}",
                )
            )
    degraded = runs.loc[runs["degraded"].astype(bool)].to_dict("records")
    if len(degraded) > t.max_degraded_runs:
        names = ", ".join(f"{r['run_name']} ({r['missing_feeds']})" for r in degraded)
        out.append(
            Breach(
                "alert",
                "all runs",
                f"degraded runs: {len(degraded)}, allowed {t.max_degraded_runs}: {names}",
            )
        )
    return out


#: Columns of the side-by-side table, and their headers.
TABLE_COLUMNS: dict[str, str] = {
    "as_of": "as of",
    "model_version": "model",
    "population": "families",
    "flags": "flags",
    "degraded": "degraded",
    "score_psi": "score PSI",
    "max_psi_feature": "max PSI feature",
    "max_feature_psi": "max PSI",
    "expected_precision": "exp. precision",
}


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Format the runs as text, in the columns shown side by side."""
    out = runs.loc[:, list(TABLE_COLUMNS)].copy()
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.strftime("%Y-%m-%d")
    for c in ("population", "flags"):
        out[c] = out[c].map(lambda v: "" if not np.isfinite(v) else f"{v:.0f}")
    for c in ("score_psi", "max_feature_psi", "expected_precision"):
        out[c] = out[c].map(lambda v: "–" if not np.isfinite(v) else f"{v:.3f}")
    out["degraded"] = np.where(runs["degraded"].astype(bool), "DEGRADED", "no")
    out["max_psi_feature"] = out["max_psi_feature"].replace("", "–")
    return out.rename(columns=TABLE_COLUMNS)


def format_runs(runs: pd.DataFrame) -> str:
    """Render the terminal table of runs.

    Examples
    --------
    >>> runs = pd.DataFrame({"as_of": ["2024-07-01"], "model_version": ["3"],
    ...     "population": [1800.0], "flags": [90.0], "degraded": [True], "score_psi": [0.02],
    ...     "max_psi_feature": ["n_children"], "max_feature_psi": [0.04],
    ...     "expected_precision": [0.21]})
    >>> print(format_runs(runs))
         as of model families flags degraded score PSI max PSI feature max PSI exp. precision
    2024-07-01     3     1800    90 DEGRADED     0.020      n_children   0.040          0.210
    """
    if not len(runs):
        return "no scoring runs"
    return runs_table(runs).to_string(index=False)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1300px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f0f0f0; }
td.degraded { background: #f8d7da; font-weight: bold; }
.alert { color: #a71d2a; } .warn { color: #8a5a00; } .ok { color: #1e6b2e; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
.figures img { max-width: 900px; }
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def render_html(
    runs: pd.DataFrame,
    breaches: Sequence[Breach],
    thresholds: Thresholds,
    figures: Mapping[str, bytes],
    *,
    title: str = "Scoring runs: integrity, drift and expected performance",
) -> str:
    """Render a self-contained HTML report (figures embedded as data URIs).

    Parameters
    ----------
    runs : pandas.DataFrame
        From ``read_scoring_runs``.
    breaches : sequence of Breach
        From :func:`check_thresholds`.
    thresholds : Thresholds
    figures : mapping of str to bytes
        PNG figures by caption (the trend over runs and the latest run's plots).
    """
    table = runs_table(runs) if len(runs) else pd.DataFrame(columns=list(TABLE_COLUMNS.values()))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = []
        for c, v in zip(table.columns, row, strict=True):
            cls = ' class="degraded"' if c == "degraded" and v == "DEGRADED" else ""
            cells.append(f"<td{cls}>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    missing = [
        f"<li>{html.escape(str(r['as_of'])[:10])}: {html.escape(str(r['missing_feeds']))}</li>"
        for r in runs.to_dict("records")
        if r["degraded"]
    ]
    if breaches:
        items = "".join(
            f'<li class="{b.level}"><b>{b.level}</b> {html.escape(b.run)}: '
            f"{html.escape(b.message)}</li>"
            for b in breaches
        )
        verdict = f"<ul>{items}</ul>"
    else:
        verdict = '<p class="ok">No threshold crossed.</p>'
    t = thresholds
    images = "".join(
        f"<figure>{_img(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, png in figures.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{len(runs)} scoring runs. Thresholds from the model definition: PSI warn {t.psi_warn},
alert {t.psi_alert}; degraded runs allowed {t.max_degraded_runs}; minimum expected precision
{t.min_expected_precision}. Scores are advisory; every flag goes to a specialist.</p>
<h2>Checks</h2>{verdict}
<h2>Runs side by side</h2>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>
<h2>Degraded runs: missing or collapsed feeds</h2>
{"<ul>" + "".join(missing) + "</ul>" if missing else "<p>None.</p>"}
<h2>Figures</h2><div class="figures">{images}</div>
</body></html>
"""
