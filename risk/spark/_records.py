"""Record tables on Spark: read, check, and cut into partitions of whole families.

The four tables are read from Parquet and stacked into one frame of *record rows* (a ``kind``
column says which table a row comes from), each tagged with ``part = pmod(hash(family_id), P)``.
Grouping by ``part`` hands a pandas function many whole families at once: everything a family's
features depend on lands in the same call, and a call costs milliseconds, not one per family.

Validation at scale is the same rules as :meth:`features.Records.validate`: each partition's
records are validated as pandas (every rule is about a row, a family, or ids within a family,
since a family and everything that refers to it share a partition), and the two rules that span
families (``member_id`` and ``event_id`` unique across the whole extraction) are Spark
aggregations on the driver's plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features import TABLES, Records, RecordsError, Table, Vocabulary

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Table codes of the ``kind`` column of the stacked record rows.
KINDS: dict[str, int] = {"families": 0, "members": 1, "events": 2, "outcomes": 3}

#: How each table's columns map onto the stacked frame (target <- source column).
STACKED: dict[str, dict[str, str]] = {
    "families": {"s1": "district", "s2": "settlement", "day": "registered_on"},
    "members": {
        "id": "member_id", "s1": "role", "s2": "sex", "day": "birth_date", "flag": "disability"
    },
    "events": {
        "id": "event_id",
        "member_id": "member_id",
        "s1": "source",
        "s2": "event_type",
        "day": "event_date",
        "value": "value",
    },
    "outcomes": {"s1": "outcome_type", "day": "outcome_date"},
}  # fmt: skip

#: Columns of the stacked frame and their Spark types (dates travel as days since 1970-01-01).
#: A column with a closed vocabulary (``features`` schema ``codes``) travels as its 1-based
#: position in the vocabulary (``c1``, ``c2``; 0 for a value outside it), and its ``s1``/``s2``
#: holds the text only for such unknown values, so that validation still names them: a code
#: is a byte where the text is tens, in the shuffle and on the way into Python.
STACKED_SCHEMA: tuple[tuple[str, str], ...] = (
    ("family_id", "string"),
    ("kind", "tinyint"),
    ("id", "string"),
    ("member_id", "string"),
    ("c1", "tinyint"),
    ("s1", "string"),
    ("c2", "tinyint"),
    ("s2", "string"),
    ("day", "int"),
    ("flag", "boolean"),
    ("value", "double"),
)

#: Code columns of the stacked frame, by the text column they encode.
_CODE_OF = {"s1": "c1", "s2": "c2"}

#: Marks a :class:`features.RecordsError` raised in a Spark worker, so the driver can re-raise it.
_MARK = "RISK_RECORDS_ERROR"
_MARKED = re.compile(_MARK + r"<(\{.*?\})>")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+):/(?!/)")

_SPARK_KINDS: dict[str, tuple[str, ...]] = {
    "string": ("StringType", "VarcharType", "CharType"),
    "date": ("DateType", "TimestampType", "TimestampNTZType"),
    "float": ("DoubleType", "FloatType", "IntegerType", "LongType", "ShortType", "DecimalType"),
    "bool": ("BooleanType",),
}


def as_uri(path: str | Path) -> str:
    """Return a path or storage URL as Spark reads it (``pathlib`` folds ``s3://`` to ``s3:/``).

    Examples
    --------
    >>> from pathlib import Path
    >>> as_uri(Path("s3://bucket/records")), as_uri("data/synthetic/sample")
    ('s3://bucket/records', 'data/synthetic/sample')
    """
    return _URL.sub(r"\g<scheme>://", str(path))


def is_local(uri: str) -> bool:
    """Whether ``uri`` names a local path (no scheme, or ``file:``).

    Examples
    --------
    >>> is_local("data/sample"), is_local("file:///tmp/x"), is_local("hdfs://nn/records")
    (True, True, False)
    """
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]+)://", uri)
    return match is None or match.group(1) == "file"


@dataclass(frozen=True)
class SparkRecords:
    """Record tables read by Spark, checked and stacked, ready to be grouped by partition.

    Attributes
    ----------
    rows : pyspark.sql.DataFrame
        The stacked record rows (:data:`STACKED_SCHEMA`) plus ``part``.
    extraction_date : pandas.Timestamp
    partitions : int
        Number of partition keys ``P``.
    uri : str
        Where the tables were read from.
    """

    rows: DataFrame
    extraction_date: pd.Timestamp
    partitions: int
    uri: str


def read_records(
    spark: SparkSession,
    path: str | Path,
    *,
    partitions: int,
    extraction_date: str | pd.Timestamp | None = None,
) -> SparkRecords:
    """Read the four Parquet record tables with Spark and stack them by partition of families.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    path : str or path-like
        Directory (local or a cluster storage URL) holding ``families.parquet``,
        ``members.parquet``, ``events.parquet``, ``outcomes.parquet`` and optionally
        ``manifest.json`` with the ``extraction_date``.
    partitions : int
        Number of partition keys: each grouped call receives about ``n_families / partitions``
        whole families.
    extraction_date : date-like, optional
        Overrides the manifest's; defaults to today when neither is given (as ``load_records``).

    Raises
    ------
    RecordsError
        A table is missing or unreadable, or a column is missing or of the wrong type.
    """
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise ValueError(f"partitions must be a positive integer; got {partitions!r}")
    uri = as_uri(path).rstrip("/")
    if is_local(uri) and not Path(uri.removeprefix("file://")).is_dir():
        raise RecordsError(uri, "", "missing_directory", "no such records directory")
    stacked = []
    for name, table in TABLES.items():
        file = f"{uri}/{name}.parquet"
        try:
            frame = spark.read.parquet(file)
        except AnalysisException as exc:
            raise RecordsError(name, "", "missing_table", f"cannot read {file}: {exc}") from None
        _check_schema(name, table, frame)
        stacked.append(_stack(name, frame, F))
    rows = stacked[0]
    for frame in stacked[1:]:
        rows = rows.unionByName(frame)
    rows = rows.withColumn("part", F.pmod(F.xxhash64("family_id"), F.lit(partitions)))
    if extraction_date is None:
        extraction_date = _manifest_date(spark, uri)
    return SparkRecords(
        rows=rows,
        extraction_date=pd.Timestamp(extraction_date or pd.Timestamp.today()).normalize(),
        partitions=partitions,
        uri=uri,
    )


def _check_schema(name: str, table: Table, frame: DataFrame) -> None:
    types = {f.name: type(f.dataType).__name__ for f in frame.schema.fields}
    missing = [c.name for c in table.columns if c.name not in types]
    if missing:
        raise RecordsError(
            name, missing[0], "missing_column", f"required column(s) missing: {', '.join(missing)}"
        )
    for col in table.columns:
        if types[col.name] not in _SPARK_KINDS[col.kind]:
            raise RecordsError(
                name, col.name, "mistyped_column", f"expected {col.kind}, got {types[col.name]}"
            )


def _stack(name: str, frame: DataFrame, F: Any) -> DataFrame:
    mapping = STACKED[name]
    vocab = {c.name: c.codes for c in TABLES[name].columns}
    code_source = {code: mapping.get(text) for text, code in _CODE_OF.items()}
    cols: list[Column] = []
    for target, kind in STACKED_SCHEMA:
        source = mapping.get(target) or code_source.get(target)
        codes = vocab.get(source) if source else None
        if target == "family_id":
            expr = F.col("family_id")
        elif target == "kind":
            expr = F.lit(KINDS[name])
        elif source is None or (target in code_source and codes is None):
            expr = F.lit(None)
        elif target == "day":
            expr = F.unix_date(F.to_date(F.col(source)))
        elif target in code_source:
            expr = _code(F.col(source), codes, F)
        elif target in _CODE_OF and codes is not None:
            # Only a value outside the vocabulary travels as text.
            expr = F.when(_code(F.col(source), codes, F) == 0, F.col(source))
        else:
            expr = F.col(source)
        cols.append(expr.cast(kind).alias(target))
    return frame.select(*cols)


def _code(column: Column, codes: Any, F: Any) -> Column:
    """Return the 1-based position of the value in the vocabulary (0 outside it, null for null)."""
    return F.array_position(F.array(*[F.lit(c) for c in codes]), column)


def _manifest_date(spark: SparkSession, uri: str) -> str | None:
    from pyspark.errors import AnalysisException

    file = f"{uri}/manifest.json"
    if is_local(uri):
        local = Path(file.removeprefix("file://"))
        text = local.read_text("utf-8") if local.exists() else None
    else:
        try:
            text = spark.read.text(file, wholetext=True).first()[0]  # type: ignore[index]
        except AnalysisException:
            text = None
    if text is None:
        return None
    try:
        value = json.loads(text).get("extraction_date")
    except json.JSONDecodeError as exc:
        raise RecordsError(
            "manifest", "extraction_date", "unreadable_manifest", f"{file}: {exc}"
        ) from None
    return None if value is None else str(value)


# ---- inside a worker: stacked rows -> Records ---------------------------------------------


def _dates(days: pa.ChunkedArray) -> pd.Series:
    values = days.to_numpy(zero_copy_only=False).astype(np.float64)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(values)
    out[ok] = (values[ok].astype(np.int64) * 86_400).astype("datetime64[s]")
    return pd.Series(out)


def unstack(rows: pa.Table | pd.DataFrame, extraction_date: pd.Timestamp) -> Records:
    """Rebuild :class:`features.Records` from stacked record rows (a partition, or a selection).

    ``rows`` is an Arrow table (as ``mapInArrow`` and ``DataFrame.toArrow`` give) or a pandas
    frame of :data:`STACKED_SCHEMA`; without the code columns ``c1``/``c2``, ``s1`` and ``s2``
    are read as text. Each table takes only its own rows and columns, straight from Arrow;
    columns get the dtypes ``features.load_records`` gives them: ids and codes ``str``, dates
    ``datetime64[s]``, ``value`` float64, ``disability`` bool.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"family_id": ["a", "a"], "kind": [0, 1], "id": [None, "m1"],
    ...     "member_id": [None, None], "s1": ["north", "child"], "s2": ["urban", "F"],
    ...     "day": [18262, 16000], "flag": [None, False], "value": [None, None]})
    >>> recs = unstack(rows, pd.Timestamp("2025-12-31"))
    >>> recs.families["registered_on"].iloc[0], recs.members["role"].tolist()
    (Timestamp('2020-01-01 00:00:00'), ['child'])
    """
    if isinstance(rows, pd.DataFrame):
        schema = arrow_schema((n, k) for n, k in STACKED_SCHEMA if n in rows.columns)
        rows = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
    kind = rows.column("kind").to_numpy()
    tables: dict[str, pd.DataFrame] = {}
    for name, mapping in STACKED.items():
        take = pa.array(np.flatnonzero(kind == KINDS[name]))
        table = TABLES[name]
        columns: dict[str, pd.Series] = {}
        for col in table.columns:
            source = "family_id" if col.name == "family_id" else _source_of(mapping, col.name)
            values = rows.column(source).take(take)
            if col.codes is not None and _CODE_OF.get(source) in rows.column_names:
                values = _decoded(rows.column(_CODE_OF[source]).take(take), values, col.codes)
            if col.kind == "date":
                columns[col.name] = _dates(values)
            elif col.kind == "string":
                columns[col.name] = pd.Series(values.to_pandas(), dtype="str")
            elif col.kind == "float":
                columns[col.name] = pd.Series(
                    values.to_numpy(zero_copy_only=False).astype(np.float64)
                )
            else:
                flags = values.to_pandas()
                columns[col.name] = flags.astype(bool) if not flags.isna().any() else flags
        tables[name] = pd.DataFrame(columns)
    return Records(**tables, extraction_date=extraction_date)


def _decoded(code: pa.ChunkedArray, text: pa.ChunkedArray, codes: tuple[str, ...]) -> Any:
    """Decode a coded column: each value from the vocabulary, or the text of an unknown one."""
    import pyarrow.compute as pc

    vocabulary = pa.array([None, *codes], type=pa.string())
    return pc.coalesce(pc.take(vocabulary, code), text)


#: Arrow types of the Spark SQL types used here.
_ARROW_TYPES = {
    "string": pa.string(),
    "tinyint": pa.int8(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
    "double": pa.float64(),
}


def arrow_schema(columns: Iterable[Sequence[str]]) -> pa.Schema:
    """Return the Arrow schema of ``(name, Spark SQL type)`` pairs.

    Examples
    --------
    >>> arrow_schema([("family_id", "string"), ("kind", "tinyint")]).types
    [DataType(string), DataType(int8)]
    """
    return pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in columns])


def _source_of(mapping: dict[str, str], column: str) -> str:
    return next(target for target, source in mapping.items() if source == column)


def validated(records: Records, vocabulary: Vocabulary | None = None) -> Records:
    """Validate records in a worker; a broken rule travels to the driver as a marked message."""
    try:
        return records.validate(vocabulary)
    except RecordsError as exc:
        raise RuntimeError(f"{_MARK}<{json.dumps(_error_args(exc))}>") from None


def _error_args(exc: RecordsError) -> dict[str, Any]:
    message = str(exc)
    where = f"{exc.table}.{exc.column}" if exc.column else exc.table
    tail = f" [{exc.rule}]"
    detail = message[len(where) + 2 : message.rindex(tail)]
    rest = message[message.rindex(tail) + len(tail) :]
    label = rest[2:].split(" ", 1)[0] if rest.startswith(" (") else None
    return {
        "table": exc.table,
        "column": exc.column,
        "rule": exc.rule,
        "detail": detail,
        "ids": list(exc.ids),
        "n_rows": exc.n_rows,
        "id_label": label,
    }


def records_error_from(exc: BaseException) -> RecordsError | None:
    """Return the :class:`features.RecordsError` a worker raised, if ``exc`` carries one.

    Examples
    --------
    >>> err = records_error_from(RuntimeError(
    ...     'RISK_RECORDS_ERROR<{"table": "events", "column": "value", "rule": "negative_value",'
    ...     ' "detail": "1 row have negative values", "ids": ["e1"], "n_rows": 1,'
    ...     ' "id_label": "event_id"}>'))
    >>> str(err)
    'events.value: 1 row have negative values [negative_value] (event_id e1)'
    """
    match = _MARKED.search(str(exc))
    return None if match is None else RecordsError(**json.loads(match.group(1)))


def check_unique_ids(records: SparkRecords) -> None:
    """Check the rules that span families: ``member_id`` and ``event_id`` unique everywhere.

    Raises
    ------
    RecordsError
        Naming the table, the column and up to five repeated ids.
    """
    from pyspark.sql import functions as F

    kinds = {KINDS[name]: name for name in ("members", "events")}
    # One job for both tables: count each id, keep the repeated, and per table their total and
    # the first five ids.
    repeated = (
        records.rows.filter(F.col("kind").isin(*kinds))
        .groupBy("kind", "id")
        .agg(F.count(F.lit(1)).alias("n"))
        .filter(F.col("n") > 1)
        .groupBy("kind")
        .agg(
            F.sum("n").alias("n"),
            F.slice(F.array_sort(F.collect_list("id")), 1, 5).alias("ids"),
        )
        .collect()
    )
    found = {int(r["kind"]): r for r in repeated}
    for kind, name in sorted(kinds.items()):
        if kind in found:
            id_col = TABLES[name].id_column
            assert id_col is not None
            n = int(found[kind]["n"])
            raise RecordsError(
                name,
                id_col,
                "duplicate_id",
                f"{n} rows share an id",
                [str(i) for i in found[kind]["ids"]],
                n,
                id_col,
            )


def reraising(call: Callable[[], Any]) -> Any:
    """Run a Spark action; a worker's :class:`features.RecordsError` is raised as itself."""
    from pyspark.errors import PythonException

    try:
        return call()
    except PythonException as exc:
        err = records_error_from(exc)
        if err is None:
            raise
        raise err from None
