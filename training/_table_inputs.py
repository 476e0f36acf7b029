"""A user's feature table before training: reading it, and the checks it must pass.

The checks (column roles, label, split) are pure: each reads the frame, never changes it, and
returns what it found or raises :class:`TableError` naming the column and what is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import InputError

#: Fewest positive (and negative) rows each of train, validation and test must hold.
MIN_CLASS_ROWS = 5

#: Column names the evaluation frame uses itself; groups and ids cannot take them.
RESERVED = ("score", "label", "row")


class TableError(InputError):
    """The feature table cannot be trained on: the message names the column and what is wrong."""


@dataclass(frozen=True)
class TableColumns:
    """How the table's columns are used."""

    label: str
    groups: tuple[str, ...]
    id_column: str | None
    features: tuple[str, ...]
    excluded: tuple[str, ...]  # numeric columns the model definition excludes
    dropped: tuple[str, ...]  # columns the caller asked to ignore


def quote_names(cols: Sequence[str]) -> str:
    """Column names quoted and joined by commas, for messages."""
    return ", ".join(f"{c!r}" for c in cols)


def _is_numeric(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_bool_dtype(s.dtype)
        or (
            pd.api.types.is_numeric_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype)
            and not pd.api.types.is_complex_dtype(s.dtype)
        )
    )


def table_columns(
    frame: pd.DataFrame,
    *,
    label: str,
    groups: Sequence[str] = (),
    id_column: str | None = None,
    drop: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> TableColumns:
    """Check the roles of the table's columns and name the model inputs.

    Raises :class:`TableError` naming the column for a missing label, group, id or dropped column,
    a column given two roles, a reserved name, or a non-numeric column that would be an input.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [0, 1], "x": [1.0, 2.0], "area": ["a", "b"], "key": ["k1", "k2"]})
    >>> table_columns(df, label="y", groups=["area"], id_column="key").features
    ('x',)
    >>> table_columns(df, label="y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    training._table_inputs.TableError: non-numeric column(s) 'area' (str), 'key' (str) cannot be ...
    """
    roles: dict[str, list[str]] = {}
    for role, cols in (
        ("label", [label]),
        ("group", list(groups)),
        ("id", [] if id_column is None else [id_column]),
        ("drop", list(drop)),
    ):
        for c in cols:
            roles.setdefault(c, []).append(role)
    clash = {c: r for c, r in roles.items() if len(r) > 1}
    if clash:
        what = "; ".join(f"{c!r} is given as {' and '.join(r)}" for c, r in clash.items())
        raise TableError(f"a column can have only one role: {what}")
    missing = [f"{r[0]} column {c!r}" for c, r in roles.items() if c not in frame.columns]
    if missing:
        shown = quote_names(list(frame.columns)[:20])
        raise TableError(
            f"the table has no {', no '.join(missing)} (columns: {shown}"
            f"{', …' if frame.shape[1] > 20 else ''})"
        )
    reserved = [c for c in (*groups, *([id_column] if id_column else [])) if c in RESERVED]
    if reserved:
        raise TableError(
            f"group or id column(s) {quote_names(reserved)} take a name the evaluation uses itself "
            f"({quote_names(RESERVED)}); rename them"
        )
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise TableError(f"the table has duplicated column name(s): {quote_names(duplicated)}")
    candidates = [c for c in frame.columns if c not in roles]
    non_numeric = [c for c in candidates if not _is_numeric(frame[c])]
    if non_numeric:
        found = ", ".join(f"{c!r} ({frame[c].dtype})" for c in non_numeric)
        raise TableError(
            f"non-numeric column(s) {found} cannot be model inputs; pass them as a group "
            "(audit only), the id, or a column to drop, or remove them from the table"
        )
    excluded_set = set(exclude)
    return TableColumns(
        label=label,
        groups=tuple(groups),
        id_column=id_column,
        features=tuple(str(c) for c in candidates if c not in excluded_set),
        excluded=tuple(str(c) for c in candidates if c in excluded_set),
        dropped=tuple(drop),
    )


def table_labels(frame: pd.DataFrame, label: str) -> np.ndarray:
    """Return the label column as 0/1 ``int8``; :class:`TableError` unless binary without NaN.

    Examples
    --------
    >>> table_labels(pd.DataFrame({"y": [True, False]}), "y").tolist()
    [1, 0]
    """
    s = frame[label]
    n_missing = int(s.isna().sum())
    if n_missing:
        raise TableError(f"label column {label!r}: {n_missing:,} value(s) are missing")
    if not _is_numeric(s):
        raise TableError(
            f"label column {label!r} must be binary (0/1 or bool); got dtype {s.dtype}"
        )
    values = s.to_numpy(dtype=np.float64)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        found = pd.unique(values[bad])[:5].tolist()
        raise TableError(
            f"label column {label!r} must be binary (0/1 or bool); {int(bad.sum()):,} value(s) "
            f"are not, e.g. {found}"
        )
    return values.astype(np.int8)


def stratified_split(
    y: np.ndarray, *, test_size: float, validation_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of train, validation and test, each stratified by ``y``.

    ``test_size`` and ``validation_size`` are fractions of all rows.

    Examples
    --------
    >>> tr, va, te = stratified_split(np.r_[np.zeros(80), np.ones(20)], test_size=0.2,
    ...                               validation_size=0.2, seed=0)
    >>> len(tr), len(va), len(te)
    (60, 20, 20)
    """
    from sklearn.model_selection import train_test_split

    if not (0 < test_size < 1 and 0 < validation_size < 1 and test_size + validation_size < 1):
        raise TableError(
            "test_size and validation_size must be in (0, 1) with a sum below 1; got "
            f"{test_size} and {validation_size}"
        )
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    train, valid = train_test_split(
        rest,
        test_size=validation_size / (1.0 - test_size),
        stratify=y[rest],
        random_state=seed,
    )
    return np.sort(train), np.sort(valid), np.sort(test)


def check_split_classes(y: np.ndarray, parts: dict[str, np.ndarray], label: str) -> None:
    """Raise :class:`TableError` unless every part holds :data:`MIN_CLASS_ROWS` of each class."""
    short = []
    for name, rows in parts.items():
        pos = int(y[rows].sum())
        for cls, n in (("positive", pos), ("negative", len(rows) - pos)):
            if n < MIN_CLASS_ROWS:
                short.append(f"{name} has {n} {cls}")
    if short:
        raise TableError(
            f"label column {label!r}: each of train, validation and test needs at least "
            f"{MIN_CLASS_ROWS} positive and {MIN_CLASS_ROWS} negative rows, but "
            f"{'; '.join(short)} (the table has {int(y.sum()):,} positives in {len(y):,} rows)"
        )


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) feature table."""
    from pathlib import Path

    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"{file}: no such table")
    suffix = file.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(file)
    if suffix == ".csv":
        return pd.read_csv(file)
    raise TableError(f"{file}: a feature table must be .parquet, .pq or .csv; got {suffix!r}")
