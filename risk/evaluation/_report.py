"""The evaluation's edge: the text table, the plots and the HTML report."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

from risk.evaluation._evaluate import Evaluation

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def format_estimates(ev: Evaluation) -> str:
    """Render every estimate with its 95% interval and, on synthetic data, the truth."""
    lines = [f"{'design':<50}{'outcome':<10}{'estimate':>10}{'95% CI':>22}{'truth':>10}"]
    for e in ev.estimates:
        truth = "" if e.truth is None else f"{e.truth:+.4f}"
        ci = f"[{e.ci_low:+.4f}, {e.ci_high:+.4f}]"
        lines.append(f"{e.design:<50}{e.outcome:<10}{e.estimate:>+10.4f}{ci:>22}{truth:>10}")
    if ev.outreach_effect is not None:
        lines.append(
            f"truth: this synthetic world's outreach lowers hazards by {ev.outreach_effect:.0%}; "
            "'truth' is each design's estimand computed from the potential outcomes"
        )
    rd = next(e for e in ev.estimates if e.design.startswith("RD"))
    rollout = (
        f"pre-trends of the rollout (joint Wald): p = {ev.did.pretrend_p:.3f}"
        if ev.did is not None
        else "staggered rollout not estimable: every district started at once, so no "
        "district is a comparison for another"
    )
    lines.append(
        f"density test at the cut-off (rddensity): p = {rd.checks['density_p']:.3f}; {rollout}"
    )
    return "\n".join(lines)


def _figure(width: float = 6.4, height: float = 3.6) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def estimates_plot(ev: Evaluation) -> Figure:
    """Each design's estimate with its 95% interval, and the truth where known."""
    fig = _figure(7.5, 3.8)
    ax = fig.add_subplot()
    rows = list(ev.estimates)
    for i, e in enumerate(rows):
        ax.errorbar(
            e.estimate,
            i,
            xerr=[[e.estimate - e.ci_low], [e.ci_high - e.estimate]],
            fmt="o",
            color="tab:blue",
            capsize=3,
        )
        if e.truth is not None:
            ax.plot(e.truth, i, "x", color="tab:red", markersize=8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(rows)), [f"{_short(e.design)} · {e.outcome}" for e in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("effect on the probability of the outcome (95% CI; x = truth)")
    return fig


def _short(design: str) -> str:
    if design.startswith("Staggered"):
        return "Staggered rollout DiD"
    if design.startswith("Offered"):
        return "Offered vs not flagged (confounded)"
    return design


def rd_plot(ev: Evaluation) -> Figure:
    """Mean registered outcome by distance to the capacity cut-off."""
    fig = _figure()
    ax = fig.add_subplot()
    b = ev.rd_bins
    left, right = b[b["x"] < 0], b[b["x"] > 0]
    ax.scatter(
        left["x"], left["mean"], s=12 + left["size"] / 5, color="tab:grey", label="not flagged"
    )
    ax.scatter(
        right["x"], right["mean"], s=12 + right["size"] / 5, color="tab:blue", label="flagged"
    )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("score log-odds minus the district's cut-off")
    ax.set_ylabel("registered outcome within 12 months")
    ax.legend(fontsize=8)
    return fig


def event_study_plot(ev: Evaluation) -> Figure:
    """Effect by quarters since a district started (pre-trends left of 0)."""
    fig = _figure()
    ax = fig.add_subplot()
    if ev.did is None:
        ax.text(0.5, 0.5, "no staggered rollout: no event study", ha="center", va="center")
        ax.set_axis_off()
        return fig
    es = ev.did.event_study
    ax.errorbar(
        es["event_time"],
        es["att"],
        yerr=1.96 * es["se"],
        fmt="o",
        capsize=3,
        label="estimate (95% CI)",
    )
    if "truth" in es:
        ax.plot(es["event_time"], es["truth"], "x", color="tab:red", label="truth")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(-0.5, color="black", lw=0.8, ls="--")
    ax.set_xlabel("quarters since the district started outreach")
    ax.set_ylabel("effect on next-quarter outcome")
    ax.legend(fontsize=8)
    return fig


PLOTS = {"estimates": estimates_plot, "rd": rd_plot, "event_study": event_study_plot}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def write_report(ev: Evaluation, out: str | Path, *, figures: str | Path | None = None) -> Path:
    """Write the HTML report (plots inline); ``figures``: also save each plot as a PNG there."""
    images = {name: _png(fn(ev)) for name, fn in PLOTS.items()}
    if figures is not None:
        folder = Path(figures)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in images.items():
            (folder / f"evaluation_{name}.png").write_bytes(data)
    parts = [
        "<html><head><meta charset='utf-8'><title>Does outreach help?</title></head><body>",
        "<h1>Does outreach help?</h1>",
        f"<pre>{html.escape(format_estimates(ev))}</pre>",
    ]
    for name, data in images.items():
        parts.append(
            f"<img alt='{name}' src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
        )
    for e in ev.estimates:
        parts.append(f"<h2>{html.escape(e.design)} · {html.escape(e.outcome)}</h2><ul>")
        parts.extend(f"<li>{html.escape(a)}</li>" for a in e.assumptions)
        parts.append("</ul>")
        if e.checks:
            checks = ", ".join(f"{k} = {v:.3g}" for k, v in e.checks.items())
            parts.append(f"<p>Checks: {html.escape(checks)}</p>")
    parts.append("</body></html>")
    path = Path(out)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
