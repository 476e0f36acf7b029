"""Figures of a scoring run and of a series of runs, as PNG bytes (counts and shares only).

Drawn on an Agg canvas without ``pyplot``: no global figure state and no display needed.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from risk.monitoring._drift import Bins, bin_shares

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _bin_labels(edges: tuple[float, ...]) -> list[str]:
    bounds = ["", *(f"{e:.3g}" for e in edges), ""]
    return [
        f"≤{bounds[1]}"
        if i == 0
        else f">{bounds[i]}"
        if i == len(edges)
        else f"{bounds[i]}–{bounds[i + 1]}"
        for i in range(len(edges) + 1)
    ]


def score_shift_png(reference: Bins | None, scores: ArrayLike, psi_value: float | None) -> bytes:
    """Share of families per score bin of the reference, the reference's and this run's."""
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    p = np.asarray(scores, dtype=np.float64)
    if reference is None:
        ax.hist(p, bins=30, color="#4c72b0")
        ax.set_ylabel("families")
        ax.set_title("Scores of this run (no training reference)")
    else:
        x = np.arange(len(reference.shares))
        ax.bar(x - 0.2, reference.shares, 0.4, label="training reference", color="#bbbbbb")
        ax.bar(x + 0.2, bin_shares(p, reference.edges), 0.4, label="this run", color="#4c72b0")
        ax.set_xticks(x, _bin_labels(reference.edges), rotation=30, fontsize=8)
        ax.set_ylabel("share of families")
        ax.set_xlabel("score bin (deciles of the reference)")
        ax.set_title(f"Score distribution against the reference (PSI {psi_value:.3f})")
        ax.legend()
    return _png(fig)


def psi_bars_png(drift: pd.DataFrame, warn: float, alert: float, top: int = 20) -> bytes:
    """Horizontal bars of the largest feature PSIs, with the warn and alert lines."""
    part = drift.head(top).iloc[::-1]
    fig = _figure(8, max(2.5, 0.28 * len(part) + 1.2))
    ax = fig.add_subplot()
    colours = np.where(
        part["psi"] >= alert, "#c44e52", np.where(part["psi"] >= warn, "#dd8452", "#4c72b0")
    )
    ax.barh(part["feature"], part["psi"], color=colours)
    ax.axvline(warn, color="#dd8452", linestyle="--", linewidth=1, label=f"warn {warn}")
    ax.axvline(alert, color="#c44e52", linestyle="--", linewidth=1, label=f"alert {alert}")
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("population stability index")
    ax.set_title(f"Feature drift against the training reference (top {len(part)})")
    ax.legend(loc="lower right")
    return _png(fig)


def volumes_heatmap_png(integrity: pd.DataFrame) -> bytes:
    """Observed over expected records per district and source (the trailing-months check)."""
    import matplotlib as mpl

    check = "trailing" if (integrity["check"] == "trailing").any() else "reference"
    part = integrity.loc[integrity["check"] == check]
    # Counts too small to judge would colour as alarming as a real collapse: grey them out.
    ratio = part["ratio"].where(part["status"] != "not judged")
    grid = part.assign(ratio=ratio).pivot(index="district", columns="source", values="ratio")
    grid = grid.reindex(columns=list(dict.fromkeys(part["source"])))
    fig = _figure(8, max(3.0, 0.32 * len(grid) + 1.5))
    ax = fig.add_subplot()
    cmap = mpl.colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    values = np.ma.masked_invalid(grid.to_numpy(dtype=np.float64))
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=2, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=30, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
    bad = part.loc[part["status"].isin(["silent", "drop"])]
    rows, cols = list(grid.index), list(grid.columns)
    for district, source in zip(bad["district"], bad["source"], strict=True):
        ax.text(cols.index(source), rows.index(district), "✕", ha="center", va="center")
    fig.colorbar(image, ax=ax, label="observed / expected records")
    ax.set_title(
        f"Record volumes, {check} check ({part['period'].iloc[0]})\n"
        "✕ silent or dropped; grey: too few records to judge",
        fontsize=10,
    )
    return _png(fig)


def runs_trend_png(runs: pd.DataFrame, warn: float, alert: float) -> bytes:
    """Score PSI and largest feature PSI, and expected precision, over the runs."""
    fig = _figure(9, 3.6)
    left, right = fig.subplots(1, 2)
    x = pd.to_datetime(runs["as_of"])
    left.plot(x, runs["score_psi"], marker="o", label="score PSI")
    left.plot(x, runs["max_feature_psi"], marker="s", label="largest feature PSI")
    left.axhline(warn, color="#dd8452", linestyle="--", linewidth=1)
    left.axhline(alert, color="#c44e52", linestyle="--", linewidth=1)
    left.set_title("Drift by scoring date")
    left.legend(fontsize=8)
    right.plot(x, runs["expected_precision"], marker="o", color="#55a868")
    degraded = runs["degraded"].astype(bool).to_numpy()
    right.scatter(x[degraded], runs["expected_precision"][degraded], color="#c44e52", zorder=3,
                  label="degraded run")  # fmt: skip
    right.set_title("Expected precision at capacity")
    if degraded.any():
        right.legend(fontsize=8)
    labels = [str(d.date()) for d in x]
    for ax in (left, right):
        ax.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=8)
    return _png(fig)
