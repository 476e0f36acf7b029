"""Fairness audit: error rates and calibration per group, as ratios to a reference group.

The audit takes any frame holding a score, a binary label and group columns, so it serves any
model, the oracle, or human decisions (``flagged=``). Against the registered label it shows
what the model does; against the synthetic truth's ``distress`` it shows what label bias hides.
Bootstrap intervals resample rows within each group, all resamples in one array pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from features import InputError
from risk._flags import flag_mask
from risk._metric_capacity import CapacitySpec, top_k_per_group
from risk._metric_kernels import (
    ECE_BINS,
    Runs,
    SortedScores,
    percentile_interval,
    resample_weights,
    safe_divide,
    weighted_auc,
    weighted_ece,
)
from risk._model import Capacity

#: Per-group metrics, in column order; each also gets ``<metric>_ratio``.
METRICS: tuple[str, ...] = (
    "flag_rate",
    "prevalence",
    "ppv",
    "tpr",
    "fpr",
    "fnr",
    "roc_auc",
    "ece",
    "mean_score",
)

#: Metrics with bootstrap intervals ``<metric>_ci_low`` / ``<metric>_ci_high``.
CI_METRICS: tuple[str, ...] = METRICS

#: Columns of the audit table, in order.
COLUMNS: tuple[str, ...] = (
    "attribute",
    "group",
    "n",
    "n_flagged",
    *METRICS,
    *(f"{m}_ratio" for m in METRICS),
    *(f"{m}_ci_{end}" for m in CI_METRICS for end in ("low", "high")),
    "is_reference",
    "outside_band",
)

#: The attributes DESIGN.md section 7 audits by.
DEFAULT_ATTRIBUTES: tuple[str, ...] = (
    "district",
    "settlement",
    "single_parent",
    "large_family",
    "disabled_child",
    "low_income",
)

#: Group label given to rows whose attribute value is missing.
MISSING = "missing"

#: The four-fifths band of ratios to the reference group, and its reciprocal.
DEFAULT_BAND: tuple[float, float] = (0.8, 1.25)

_ALPHA = 0.05
_BAND_TOL = 1e-9  # a ratio of exactly 0.8 computed as 0.4 / 0.5 is inside the band


class AuditError(InputError):
    """The audit's input is unusable: a missing column, non-binary labels, NaN scores."""


def _binary(frame: pd.DataFrame, col: str, what: str) -> NDArray[np.float64]:
    s = frame[col]
    if s.isna().any():
        raise AuditError(f"{what} column {col!r}: {int(s.isna().sum())} values are missing")
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(s):
        raise AuditError(f"{what} column {col!r} must be binary (0/1 or bool); got dtype {s.dtype}")
    arr = s.to_numpy(dtype=np.float64)
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        found = pd.unique(arr[bad])[:5].tolist()
        raise AuditError(
            f"{what} column {col!r} must be binary (0/1 or bool); "
            f"{int(bad.sum())} values are not, e.g. {found}"
        )
    return arr


def _scores(frame: pd.DataFrame, col: str) -> NDArray[np.float64]:
    s = frame[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise AuditError(f"score column {col!r} must be numeric; got dtype {s.dtype}")
    arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise AuditError(f"score column {col!r}: {int(bad.sum())} values are NaN or infinite")
    return arr


def group_labels(values: pd.Series) -> NDArray[np.object_]:
    """Stringify group values: bools as ``"True"``/``"False"``, missing as ``"missing"``.

    Parameters
    ----------
    values : pandas.Series
        An attribute column.

    Returns
    -------
    numpy.ndarray of str
        One label per row.

    Examples
    --------
    >>> group_labels(pd.Series([True, False, None], dtype="boolean")).tolist()
    ['True', 'False', 'missing']
    """
    missing = values.isna().to_numpy()
    labels = values.astype(object).to_numpy().copy()
    labels[missing] = MISSING
    return np.array([str(v) for v in labels], dtype=object)


def _group_order(labels: NDArray[np.object_]) -> list[str]:
    uniques = sorted({str(v) for v in labels} - {MISSING})
    return uniques + ([MISSING] if MISSING in set(labels) else [])


def _flags(
    frame: pd.DataFrame,
    scores: NDArray[np.float64],
    *,
    threshold: float | None,
    top_k: CapacitySpec | None,
    top_k_by: str | None,
    flagged: str | None,
    tie_break: str | None,
    capacity: Capacity | None = None,
) -> NDArray[np.float64]:
    if flagged is not None:
        return _binary(frame, flagged, "flagged")
    if threshold is not None:
        return (scores >= threshold).astype(np.float64)
    by = None
    if top_k_by is not None:
        if frame[top_k_by].isna().any():
            n_missing = int(frame[top_k_by].isna().sum())
            raise AuditError(f"top_k_by column {top_k_by!r}: {n_missing} values are missing")
        by = frame[top_k_by].to_numpy(dtype=object)
    tb = None if tie_break is None else frame[tie_break].to_numpy(dtype=object)
    if capacity is not None:
        # The screener's own rule, so the audit judges the flags that are deployed.
        assert by is not None  # audit() names the district column
        return flag_mask(scores, by, tb, capacity).astype(np.float64)
    assert top_k is not None  # _check_inputs guarantees exactly one way of flagging
    return top_k_per_group(scores, by, top_k, tie_break=tb).astype(np.float64)


def _group_metrics(
    s: SortedScores, f: NDArray[np.float64], w: NDArray[np.float64], probability: bool
) -> dict[str, NDArray[np.float64]]:
    """Every metric of one group for each row of weights ``w`` (B x n, sorted as ``s``)."""
    y = s.y
    n = w.sum(axis=1)
    tp = w @ (y * f)
    fp = w @ ((1.0 - y) * f)
    fn = w @ (y * (1.0 - f))
    tn = n - tp - fp - fn
    r = Runs.of(s, w)
    return {
        "flag_rate": safe_divide(tp + fp, n),
        "prevalence": safe_divide(tp + fn, n),
        "ppv": safe_divide(tp, tp + fp),
        "tpr": safe_divide(tp, tp + fn),
        "fpr": safe_divide(fp, fp + tn),
        "fnr": safe_divide(fn, tp + fn),
        "roc_auc": weighted_auc(s, r),
        "ece": weighted_ece(s, r, ECE_BINS) if probability else np.full(w.shape[0], np.nan),
        "mean_score": safe_divide(w @ s.p, n),
    }


def _check_inputs(
    frame: pd.DataFrame,
    *,
    score: str,
    label: str,
    groups: Sequence[str],
    threshold: float | None,
    top_k: CapacitySpec | None,
    top_k_by: str | None,
    flagged: str | None,
    tie_break: str | None,
    capacity: Capacity | None,
    n_boot: int,
    band: tuple[float, float],
) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise AuditError(f"audit needs a pandas DataFrame; got {type(frame).__name__}")
    ways = {"threshold": threshold, "top_k": top_k, "flagged": flagged, "capacity": capacity}
    given = [k for k, v in ways.items() if v is not None]
    if len(given) != 1:
        raise AuditError(
            "give exactly one way of flagging: threshold, top_k, capacity or flagged; "
            f"got {', '.join(given) if given else 'none'}"
        )
    if capacity is not None and not isinstance(capacity, Capacity):
        raise AuditError(f"capacity must be a risk.Capacity; got {type(capacity).__name__}")
    if top_k_by is not None and top_k is None and capacity is None:
        raise AuditError("top_k_by is only meaningful with top_k or capacity")
    if not groups:
        raise AuditError("groups: name at least one group column")
    wanted = [score, label, *groups, top_k_by, flagged, tie_break]
    missing = [c for c in dict.fromkeys(wanted) if c is not None and c not in frame.columns]
    if missing:
        raise AuditError(
            f"columns not in the frame: {', '.join(map(repr, missing))} "
            f"(it has {', '.join(map(str, frame.columns[:20]))})"
        )
    if n_boot < 0:
        raise AuditError(f"n_boot must be non-negative; got {n_boot}")
    low, high = band
    if not 0.0 < low <= 1.0 <= high:
        raise AuditError(f"band must satisfy 0 < low <= 1 <= high; got {band}")


def audit(
    frame: pd.DataFrame,
    *,
    score: str,
    label: str,
    groups: str | Sequence[str] = DEFAULT_ATTRIBUTES,
    threshold: float | None = None,
    top_k: CapacitySpec | None = None,
    top_k_by: str | None = None,
    flagged: str | None = None,
    tie_break: str | None = None,
    capacity: Capacity | None = None,
    reference: Literal["largest"] | Mapping[str, Any] = "largest",
    n_boot: int = 200,
    seed: int = 0,
    band: tuple[float, float] = DEFAULT_BAND,
) -> pd.DataFrame:
    """Audit flags and scores by group: rates, errors, calibration and their ratios.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per scored family (or snapshot); not modified.
    score : str
        Column of scores. ``ece`` needs probabilities in [0, 1] and is ``nan`` otherwise.
    label : str
        Column of binary outcomes (0/1 or bool): the registered label, or the synthetic
        truth's ``distress`` to see what label bias hides.
    groups : str or sequence of str, default=DEFAULT_ATTRIBUTES
        Attribute columns to audit by. Values are stringified (``"True"``/``"False"`` for
        bools); missing values form the group ``"missing"``.
    threshold : float, optional
        Flag rows whose score is ``>= threshold``.
    top_k : int, mapping or Capacity, optional
        Flag the ``top_k`` highest scores overall, or per value of ``top_k_by`` (a mapping gives
        each value its own capacity). A :class:`risk.Capacity` flags as ``capacity`` does, with
        its minimum score, within the values of ``top_k_by``.
    top_k_by : str, optional
        Column within whose values ``top_k`` applies (e.g. ``"district"``).
    flagged : str, optional
        Column of existing binary flags (e.g. specialists' decisions) to audit as they are.
    tie_break : str, optional
        Column ordering equal scores for ``top_k`` (e.g. family ids); then row position. With
        ``capacity`` it defaults to ``"family_id"``.
    capacity : Capacity, optional
        Flag as the screener does (:func:`risk.flag_mask`): the top of each district up to its
        capacity, at or above the minimum score. The district is the column ``top_k_by``
        (default ``"district"``), the tie-break ``tie_break`` (default ``"family_id"``).
    reference : "largest" or mapping, default="largest"
        Reference group per attribute: the largest group (not ``"missing"``; first in sort order
        on ties), or ``{attribute: group value}`` for the attributes named.
    n_boot : int, default=200
        Bootstrap resamples within each group; 0 leaves the intervals ``nan``.
    seed : int, default=0
        Seed of the resampling.
    band : tuple of float, default=(0.8, 1.25)
        Ratios outside ``[low, high]`` are named in ``outside_band``.

    Returns
    -------
    pandas.DataFrame
        One row per (attribute, group), columns :data:`COLUMNS`. A ratio is the group's value
        over the reference's, ``nan`` when the reference's value is 0 or undefined.
        ``outside_band`` names the ratio columns outside the band, comma-separated, or "".

    Raises
    ------
    AuditError
        Not exactly one of threshold, top_k, capacity, flagged; missing columns; labels or
        flags that are not binary; NaN scores.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "score": [0.9, 0.2, 0.7, 0.4, 0.8, 0.1],
    ...     "label": [1, 0, 0, 0, 1, 1],
    ...     "area": ["a", "a", "a", "b", "b", "b"],
    ... })
    >>> t = audit(df, score="score", label="label", groups="area", threshold=0.5, n_boot=0)
    >>> print(t[["group", "n", "n_flagged", "ppv", "tpr", "ppv_ratio"]].to_string(index=False))
    group  n  n_flagged  ppv  tpr  ppv_ratio
        a  3          2  0.5  1.0        1.0
        b  3          1  1.0  0.5        2.0
    >>> t["outside_band"].str.split(",").str[:3].tolist()
    [[''], ['flag_rate_ratio', 'prevalence_ratio', 'ppv_ratio']]
    """
    group_cols = [groups] if isinstance(groups, str) else list(groups)
    if capacity is not None:
        top_k_by = "district" if top_k_by is None else top_k_by
        tie_break = "family_id" if tie_break is None else tie_break
    _check_inputs(
        frame,
        score=score,
        label=label,
        groups=group_cols,
        threshold=threshold,
        top_k=top_k,
        top_k_by=top_k_by,
        flagged=flagged,
        tie_break=tie_break,
        capacity=capacity,
        n_boot=n_boot,
        band=band,
    )
    p = _scores(frame, score)
    y = _binary(frame, label, "label")
    f = _flags(
        frame,
        p,
        threshold=threshold,
        top_k=top_k,
        top_k_by=top_k_by,
        flagged=flagged,
        tie_break=tie_break,
        capacity=capacity,
    )
    probability = bool(p.size == 0 or (p.min() >= 0.0 and p.max() <= 1.0))
    rng = np.random.default_rng(seed)
    refs = {} if isinstance(reference, str) else dict(reference)
    if isinstance(reference, str) and reference != "largest":
        raise AuditError(f"reference must be 'largest' or a mapping; got {reference!r}")
    unknown = sorted(set(refs) - set(group_cols))
    if unknown:
        raise AuditError(f"reference names attributes not audited: {unknown}")

    rows: list[dict[str, Any]] = []
    for attribute in group_cols:
        labels = group_labels(frame[attribute])
        order = _group_order(labels)
        block = []
        for group in order:
            idx = np.flatnonzero(labels == group)
            s = SortedScores.of(y[idx], p[idx])
            fg = f[idx][s.order]
            point = _group_metrics(s, fg, np.ones((1, idx.size)), probability)
            row: dict[str, Any] = {
                "attribute": attribute,
                "group": group,
                "n": int(idx.size),
                "n_flagged": int(fg.sum()),
            }
            row.update({m: float(point[m][0]) for m in METRICS})
            boots: dict[str, list[NDArray[np.float64]]] = {m: [] for m in CI_METRICS}
            if n_boot > 0:
                for w in resample_weights(rng, idx.size, n_boot):
                    values = _group_metrics(s, fg, w, probability)
                    for m in CI_METRICS:
                        boots[m].append(values[m])
            for m in CI_METRICS:
                lo, hi = np.nan, np.nan
                if boots[m]:
                    lo, hi, _ = percentile_interval(np.concatenate(boots[m]), _ALPHA)
                row[f"{m}_ci_low"], row[f"{m}_ci_high"] = lo, hi
            block.append(row)
        ref_group = _reference(attribute, block, refs)
        _add_ratios(block, ref_group, band)
        rows.extend(block)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table = table.astype({"attribute": str, "group": str, "outside_band": str})
    table.attrs["band"] = band
    return table


def _reference(attribute: str, block: list[dict[str, Any]], refs: Mapping[str, Any]) -> str:
    if attribute in refs:
        wanted = str(refs[attribute])
        if not any(r["group"] == wanted for r in block):
            have = [r["group"] for r in block]
            raise AuditError(f"reference group {wanted!r} of {attribute!r} not found; has {have}")
        return wanted
    candidates = [r for r in block if r["group"] != MISSING] or block
    return str(max(candidates, key=lambda r: r["n"])["group"])  # max keeps the first on ties


def _add_ratios(block: list[dict[str, Any]], ref_group: str, band: tuple[float, float]) -> None:
    ref = next(r for r in block if r["group"] == ref_group)
    low, high = band
    for row in block:
        outside = []
        for m in METRICS:
            den, num = ref[m], row[m]
            ratio = num / den if np.isfinite(den) and den > 0 and np.isfinite(num) else np.nan
            row[f"{m}_ratio"] = ratio
            if np.isfinite(ratio) and (
                ratio < low * (1 - _BAND_TOL) or ratio > high * (1 + _BAND_TOL)
            ):
                outside.append(f"{m}_ratio")
        row["is_reference"] = row["group"] == ref_group
        row["outside_band"] = ",".join(outside)


def _cell(value: float, ratio: float, outside: bool) -> str:
    v = "-" if not np.isfinite(value) else f"{value:.3f}"
    r = "-" if not np.isfinite(ratio) else f"{ratio:.2f}"
    return f"{v} ({r}){'!' if outside else ' '}"


def summarize(
    audit_df: pd.DataFrame,
    metrics: Sequence[str] = ("flag_rate", "ppv", "fpr", "fnr"),
) -> str:
    """Render an audit table as readable text: values with their ratios to the reference.

    Parameters
    ----------
    audit_df : pandas.DataFrame
        Output of :func:`audit`.
    metrics : sequence of str, default=("flag_rate", "ppv", "fpr", "fnr")
        Metrics to show, each as ``value (ratio)``; ``!`` marks a ratio outside the band and
        ``*`` the reference group.

    Returns
    -------
    str
        A fixed-width table with a one-line legend.

    Examples
    --------
    >>> df = pd.DataFrame({"s": [0.9, 0.2, 0.7, 0.4], "y": [1, 0, 0, 1], "g": list("aabb")})
    >>> print(summarize(audit(df, score="s", label="y", groups="g", threshold=0.5, n_boot=0),
    ...                 metrics=("flag_rate",)))
    attribute  group  n  flag_rate
    g          a *    2  0.500 (1.00)
    g          b      2  0.500 (1.00)
    * reference group; value (ratio to reference); ! ratio outside [0.8, 1.25]
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise AuditError(f"summarize: unknown metrics {unknown}; choose from {list(METRICS)}")
    header = ["attribute", "group", "n", *metrics]
    lines: list[list[str]] = []
    for rec in audit_df.to_dict(orient="records"):
        outside = set(str(rec["outside_band"]).split(",")) - {""}
        cells = [
            _cell(rec[m], rec[f"{m}_ratio"], f"{m}_ratio" in outside).rstrip() for m in metrics
        ]
        group = f"{rec['group']}{' *' if rec['is_reference'] else ''}"
        lines.append([str(rec["attribute"]), group, str(rec["n"]), *cells])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *lines]
    ]
    low, high = audit_df.attrs.get("band", DEFAULT_BAND)
    out.append(f"* reference group; value (ratio to reference); ! ratio outside [{low}, {high}]")
    return "\n".join(out)
