"""Evaluation figures: reliability diagram, precision-recall curve, score histogram, audit plot.

Each function returns a :class:`matplotlib.figure.Figure` drawn on an Agg canvas, built without
``pyplot``: no global figure state, no display needed, and the caller's backend is untouched.
Titles and axis labels come in English or Russian (``lang``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from risk._metrics import ece as _ece
from risk._metrics import pr_auc as _pr_auc
from risk.messages import LANGS, RISK, Lang

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Titles and labels: keys ``plot.*`` of risk's message catalogues (risk.messages), by language.
_TEXT: dict[str, dict[str, str]] = {
    lang: {key: texts[i] for key, texts in RISK.pairs("plot.").items()}
    for i, lang in enumerate(LANGS)
}

#: Ratios above this are drawn clipped, with their value written at the end of the bar.
_RATIO_CAP = 3.0


def _text(lang: Lang) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {sorted(_TEXT)}; got {lang!r}")
    return _TEXT[lang]


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _curves(
    y: ArrayLike, p_dict: Mapping[str, ArrayLike]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if not p_dict:
        raise ValueError("p_dict: give at least one named array of probabilities")
    yy = np.asarray(y, dtype=np.float64)
    curves = {name: np.asarray(p, dtype=np.float64) for name, p in p_dict.items()}
    for name, p in curves.items():
        if p.shape != yy.shape:
            raise ValueError(f"p_dict[{name!r}] has shape {p.shape} but y has {yy.shape}")
    return yy, curves


def reliability_diagram(
    y: ArrayLike,
    p_dict: Mapping[str, ArrayLike],
    n_bins: int = 10,
    *,
    lang: Lang = "en",
) -> Figure:
    """Plot observed frequency against mean predicted probability, in equal-mass bins.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p_dict : mapping of str to array-like
        Named probabilities (e.g. ``{"before calibration": p0, "after": p1}``), one curve each;
        the legend gives each curve's ECE.
    n_bins : int, default=10
        Equal-mass bins, as in :func:`risk.metrics.ece`.
    lang : {"en", "ru"}, default="en"
        Language of the title and labels.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the diagonal, then one line per curve.

    Examples
    --------
    >>> fig = reliability_diagram([0, 1, 0, 1], {"model": [0.2, 0.7, 0.4, 0.9]}, n_bins=2)
    >>> len(fig.axes), len(fig.axes[0].lines)
    (1, 2)
    """
    t = _text(lang)
    yy, curves = _curves(y, p_dict)
    fig = _figure(6.0, 5.5)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label=t["perfect"])
    top = 0.05
    for name, p in curves.items():
        order = np.argsort(p, kind="stable")
        bins = [b for b in np.array_split(order, n_bins) if b.size]
        mean_p = [float(p[b].mean()) for b in bins]
        mean_y = [float(yy[b].mean()) for b in bins]
        ax.plot(mean_p, mean_y, marker="o", label=f"{name} (ECE {_ece(yy, p, n_bins):.3f})")
        top = max(top, *mean_p, *mean_y)
    # Risk scores are mostly small: zoom on the range the bins cover, square, within [0, 1].
    lim = min(1.0, top * 1.05)
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_title(t["reliability"].format(n_bins=n_bins))
    ax.set_xlabel(t["mean_predicted"])
    ax.set_ylabel(t["observed"])
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def pr_curve(y: ArrayLike, p_dict: Mapping[str, ArrayLike], *, lang: Lang = "en") -> Figure:
    """Plot precision against recall for each named score, with the prevalence baseline.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p_dict : mapping of str to array-like
        Named scores, one curve each; the legend gives each curve's average precision.
    lang : {"en", "ru"}, default="en"
        Language of the title and labels.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: one step line per score, then the prevalence line.

    Examples
    --------
    >>> fig = pr_curve([0, 1, 0, 1], {"a": [0.2, 0.7, 0.4, 0.9], "b": [0.5, 0.4, 0.3, 0.6]})
    >>> len(fig.axes[0].lines)
    3
    """
    from sklearn.metrics import precision_recall_curve

    t = _text(lang)
    yy, curves = _curves(y, p_dict)
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    for name, p in curves.items():
        precision, recall, _ = precision_recall_curve(yy, p)
        ax.step(recall, precision, where="post", label=f"{name} (AP {_pr_auc(yy, p):.3f})")
    prevalence = float(yy.mean()) if yy.size else 0.0
    ax.axhline(prevalence, linestyle="--", color="grey", linewidth=1,
               label=t["prevalence"].format(value=prevalence))  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(t["pr"])
    ax.set_xlabel(t["recall"])
    ax.set_ylabel(t["precision"])
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return fig


def score_histogram(
    p: ArrayLike, labels: ArrayLike | None = None, *, bins: int = 40, lang: Lang = "en"
) -> Figure:
    """Plot the distribution of scores, split by outcome when labels are given.

    Parameters
    ----------
    p : array-like of shape (n,)
        Scores.
    labels : array-like of shape (n,), optional
        Binary labels; with them, one density histogram per outcome.
    bins : int, default=40
        Histogram bins.
    lang : {"en", "ru"}, default="en"
        Language of the title and labels.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one histogram, or two with labels.

    Examples
    --------
    >>> fig = score_histogram([0.1, 0.2, 0.8, 0.9], labels=[0, 0, 1, 1])
    >>> len(fig.axes)
    1
    """
    t = _text(lang)
    pp = np.asarray(p, dtype=np.float64)
    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot()
    edges = np.histogram_bin_edges(pp, bins=bins).tolist()
    if labels is None:
        ax.hist(pp, bins=edges, label=t["all"])
        ax.set_ylabel(t["families"])
    else:
        yy = np.asarray(labels, dtype=np.float64)
        if yy.shape != pp.shape:
            raise ValueError(f"labels has shape {yy.shape} but p has {pp.shape}")
        for value, key in ((0.0, "label_0"), (1.0, "label_1")):
            ax.hist(pp[yy == value], bins=edges, density=True, alpha=0.55, label=t[key])
        ax.set_ylabel(t["density"])
    ax.set_title(t["histogram"])
    ax.set_xlabel(t["score"])
    ax.legend()
    return fig


def audit_plot(
    audit_df: pd.DataFrame,
    metrics: Sequence[str] = ("flag_rate", "ppv", "fpr", "fnr"),
    *,
    band: tuple[float, float] | None = None,
    lang: Lang = "en",
) -> Figure:
    """Plot each group's ratios to its reference group, one panel per attribute.

    Bars are horizontal, one cluster per group (labelled with its size; the reference is
    marked), one bar per metric; the band of acceptable ratios is shaded and 1 is drawn.
    Ratios above 3 are clipped and their value written; undefined ratios draw no bar.

    Parameters
    ----------
    audit_df : pandas.DataFrame
        Output of :func:`risk.fairness.audit`.
    metrics : sequence of str, default=("flag_rate", "ppv", "fpr", "fnr")
        Metrics whose ``<metric>_ratio`` to draw.
    band : tuple of float, optional
        Band to shade; defaults to the audit's own (``audit_df.attrs["band"]``) or (0.8, 1.25).
    lang : {"en", "ru"}, default="en"
        Language of the title and labels.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per attribute, in the audit's order.

    Examples
    --------
    >>> from risk.fairness import audit
    >>> df = pd.DataFrame({"s": [0.9, 0.2, 0.7, 0.4], "y": [1, 0, 0, 1],
    ...                    "g": list("aabb"), "h": [True, False, True, True]})
    >>> table = audit(df, score="s", label="y", groups=["g", "h"], threshold=0.5, n_boot=0)
    >>> len(audit_plot(table).axes)
    2
    """
    t = _text(lang)
    missing = [f"{m}_ratio" for m in metrics if f"{m}_ratio" not in audit_df.columns]
    if missing or "attribute" not in audit_df.columns:
        raise ValueError(f"audit_plot needs an audit table; missing columns {missing}")
    low, high = band or audit_df.attrs.get("band", (0.8, 1.25))
    attributes = list(dict.fromkeys(audit_df["attribute"]))
    sizes = [int((audit_df["attribute"] == a).sum()) for a in attributes]
    fig = _figure(8.0, 1.2 + sum(0.32 * len(metrics) * s + 0.6 for s in sizes) * 0.55)
    ratios = [max(s, 1) for s in sizes]
    axes = fig.subplots(len(attributes), 1, squeeze=False, height_ratios=ratios)[:, 0]
    height = 0.8 / max(len(metrics), 1)
    all_ratios = audit_df[[f"{m}_ratio" for m in metrics]].to_numpy(dtype=np.float64)
    finite = all_ratios[np.isfinite(all_ratios)]
    largest = float(finite.max()) if finite.size else 1.0
    x_max = min(_RATIO_CAP, max(high * 1.2, largest)) * 1.12  # one scale for every panel
    for ax, attribute in zip(axes, attributes, strict=True):
        block = audit_df[audit_df["attribute"] == attribute].reset_index(drop=True)
        positions = np.arange(len(block))[::-1].astype(float)
        ax.axvspan(low, high, color="tab:green", alpha=0.12, linewidth=0)
        ax.axvline(1.0, color="black", linewidth=0.8)
        for j, metric in enumerate(metrics):
            ratios = block[f"{metric}_ratio"].to_numpy(dtype=np.float64)
            shown = np.clip(np.nan_to_num(ratios, nan=0.0), 0.0, _RATIO_CAP)
            ys = positions + (len(metrics) - 1) / 2 * height - j * height
            key = "prevalence_metric" if metric == "prevalence" else metric
            ax.barh(ys, shown, height=height * 0.95, label=t.get(key, metric))
            for y_pos, ratio in zip(ys, ratios, strict=True):
                if np.isfinite(ratio) and ratio > _RATIO_CAP:
                    ax.text(_RATIO_CAP, y_pos, f" {ratio:.1f}", va="center", fontsize=7)
        labels = [
            f"{g} (n={n}{', ' + t['reference'] if ref else ''})"
            for g, n, ref in zip(block["group"], block["n"], block["is_reference"], strict=True)
        ]
        ax.set_yticks(positions, labels, fontsize=8)
        ax.set_xlim(0, x_max)
        ax.set_title(str(attribute), loc="left", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[-1].set_xlabel(t["ratio"].format(low=low, high=high))
    axes[0].legend(loc="lower right", fontsize=8, ncols=min(len(metrics), 4))
    fig.suptitle(t["audit"])
    return fig
