"""Corrupt valid records on purpose and check every records-reading command on them.

Shared by ``tests/reliability/test_fuzz_records.py`` (200 examples in CI) and ``bench/fuzz.py``
(10,000 examples). A case is a small valid synthetic population, zero to three corruptions and an
as-of date. The property: each command either works (exit 0, valid output) or stops with exit
code 2 and one line ``error: <table>[.<column>]: ... [<rule>]`` and writes nothing: no output file,
no review-queue run. Never a traceback from inside.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from hypothesis import strategies as st
from typer.testing import CliRunner

from features import FEATURES, TABLES, Records, RecordsError, build_features, load_records

Frames = dict[str, pd.DataFrame]
Corruption = Callable[[Frames, dict], None]

#: "error: events.value: 3 rows ... [negative_value] (...)"; the manifest is a pseudo-table.
ERROR_LINE = re.compile(
    r"^error: (families|members|events|outcomes|manifest)(\.\w+)?: .*\[(?P<rule>\w+)\]"
    # Screening a date past the extraction: a refusal naming both dates.
    r"|^error: as_of \S+ is after the records' extraction date \S+: "
)
AS_OF_DATES = ("2020-01-01", "2023-06-30", "2025-06-30", "2025-12-31", "2031-01-01")
SEEDS = (0, 1, 2)
N_FAMILIES = 60

_COLUMNS = [(t, c.name) for t, table in TABLES.items() for c in table.columns]
_DATE_COLUMNS = [
    (t, c.name) for t, table in TABLES.items() for c in table.columns if c.kind == "date"
]
_CODE_COLUMNS = [(t, c.name) for t, table in TABLES.items() for c in table.columns if c.codes]
_ID_TABLES = [t for t, table in TABLES.items() if table.id_column]


@cache
def population(seed: int) -> Records:
    """A small valid population (cached per seed)."""
    from risk.synth import generate

    records, _ = generate(N_FAMILIES, seed=seed)
    return records


def frames_of(records: Records) -> Frames:
    return {name: records.table(name).copy() for name in TABLES}


# ---- corruptions: each mutates the frames (and the manifest dict) in place ------------------


def _row(frame: pd.DataFrame, i: int) -> object:
    return frame.index[i % len(frame)]


def drop_column(table: str, column: str) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frames[table] = frames[table].drop(columns=[column], errors="ignore")

    return f


def rename_column(table: str, column: str, new: str) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        # A file cannot hold two columns of one name: renaming onto an existing one is a no-op.
        if new in frames[table].columns:
            return
        frames[table] = frames[table].rename(columns={column: new})

    return f


def retype(table: str, column: str, to: str) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames[table]
        if column not in frame.columns:
            return
        s = frame[column]
        n = len(s)
        if to == "str":
            new = s.astype(str)
        elif to == "int":
            new = pd.Series(np.arange(n, dtype=np.int64), index=s.index)
        elif to == "float":
            new = pd.Series(np.linspace(0.0, 5.0, n), index=s.index)
        elif to == "bool":
            new = pd.Series(np.arange(n) % 2 == 0, index=s.index)
        elif to == "category":
            new = s.astype("category")
        elif to == "null":
            new = pd.Series([None] * n, index=s.index, dtype=object)
        elif to == "bytes":
            new = pd.Series([str(v).encode() for v in s], index=s.index, dtype=object)
        elif to == "tz":
            new = pd.Series(
                pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC"), index=s.index
            )
        elif to == "timestamp_ns":
            new = pd.Series(pd.date_range("2021-01-01", periods=n, freq="h"), index=s.index)
        else:
            raise AssertionError(to)
        frames[table] = frame.assign(**{column: new})

    return f


def unknown_code(table: str, column: str, i: int, code: str) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames[table]
        if len(frame) and column in frame.columns and frame[column].dtype != bool:
            frame[column] = frame[column].astype(object)
            frame.loc[_row(frame, i), column] = code
            frame[column] = frame[column].astype("str")

    return f


def duplicate_id(table: str, i: int, j: int) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames[table]
        col = TABLES[table].id_column
        if len(frame) > 1 and col in frame.columns:
            frame.loc[_row(frame, j), col] = frame.loc[_row(frame, i), col]

    return f


def duplicate_row(table: str, i: int) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames[table]
        if len(frame):
            frames[table] = pd.concat([frame, frame.iloc[[i % len(frame)]]], ignore_index=True)

    return f


def orphan(table: str, column: str, i: int, value: str) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames[table]
        if len(frame) and column in frame.columns:
            frame.loc[_row(frame, i), column] = value

    return f


def set_date(table: str, column: str, i: int, value: str | None, n: int) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames[table]
        if not len(frame) or column not in frame.columns:
            return
        if not pd.api.types.is_datetime64_dtype(frame[column].dtype):
            return
        rows = [_row(frame, i + k) for k in range(n)]
        frame.loc[rows, column] = pd.NaT if value is None else np.datetime64(value, "s")

    return f


def set_value(i: int, value: float, n: int) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frame = frames["events"]
        if len(frame) and "value" in frame.columns and frame["value"].dtype.kind == "f":
            frame.loc[[_row(frame, i + k) for k in range(n)], "value"] = value

    return f


def empty_table(table: str) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frames[table] = frames[table].iloc[:0]

    return f


def empty_all(frames: Frames, manifest: dict) -> None:
    for name in TABLES:
        frames[name] = frames[name].iloc[:0]


def single_family(i: int) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        fam = frames["families"]
        if not len(fam) or "family_id" not in fam.columns:
            return
        keep = fam["family_id"].iloc[i % len(fam)]
        for name, frame in frames.items():
            if "family_id" in frame.columns:
                frames[name] = frame[frame["family_id"] == keep]

    return f


def shuffle_rows(table: str, seed: int) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        frames[table] = frames[table].sample(frac=1.0, random_state=seed)

    return f


def manifest_date(value: str | None) -> Corruption:
    def f(frames: Frames, manifest: dict) -> None:
        manifest["extraction_date"] = value

    return f


def manifest_broken(frames: Frames, manifest: dict) -> None:
    manifest["__broken__"] = True


_ODD_STRINGS = st.sampled_from(["", " ", "Urban", "mothr", "NaN", "None", "Ω≈ç", "x" * 300, "0"])


def corruptions() -> st.SearchStrategy[tuple[str, Corruption]]:
    """One named corruption."""
    idx = st.integers(0, 10_000)
    col = st.sampled_from(_COLUMNS)
    date_col = st.sampled_from(_DATE_COLUMNS)
    code_col = st.sampled_from(_CODE_COLUMNS)
    table = st.sampled_from(list(TABLES))
    return st.one_of(
        col.map(lambda tc: (f"drop {tc}", drop_column(*tc))),
        st.tuples(col, st.sampled_from(["Family_ID", "value ", "date", "id"])).map(
            lambda a: (f"rename {a[0]}", rename_column(*a[0], a[1]))
        ),
        st.tuples(
            col,
            st.sampled_from(
                ["str", "int", "float", "bool", "category", "null", "bytes", "tz", "timestamp_ns"]
            ),
        ).map(lambda a: (f"retype {a[0]} {a[1]}", retype(*a[0], a[1]))),
        st.tuples(code_col, idx, _ODD_STRINGS).map(
            lambda a: (f"code {a[0]}", unknown_code(*a[0], a[1], a[2]))
        ),
        st.tuples(st.sampled_from(_ID_TABLES), idx, idx).map(
            lambda a: (f"duplicate id {a[0]}", duplicate_id(*a))
        ),
        st.tuples(table, idx).map(lambda a: (f"duplicate row {a[0]}", duplicate_row(*a))),
        st.tuples(
            st.sampled_from(
                [
                    ("members", "family_id"),
                    ("events", "family_id"),
                    ("outcomes", "family_id"),
                    ("events", "member_id"),
                ]
            ),
            idx,
            st.sampled_from(["ghost", "", "m-ghost"]),
        ).map(lambda a: (f"orphan {a[0]}", orphan(*a[0], a[1], a[2]))),
        st.tuples(
            date_col,
            idx,
            st.sampled_from(
                [
                    None,
                    "2026-01-01",
                    "2099-12-31",
                    "1066-10-14",
                    "1899-12-31",
                    "1900-01-01",
                    "1970-01-01",
                    "2025-12-31",
                    "2019-02-28",
                    "9999-12-31",
                ]
            ),
            st.integers(1, 3),
        ).map(lambda a: (f"date {a[0]} {a[2]}", set_date(*a[0], a[1], a[2], a[3]))),
        st.tuples(
            idx,
            st.sampled_from([-1.0, -1e-9, np.nan, np.inf, -np.inf, 0.0, 1e300]),
            st.integers(1, 3),
        ).map(lambda a: (f"value {a[1]}", set_value(*a))),
        table.map(lambda t: (f"empty {t}", empty_table(t))),
        st.just(("empty all", empty_all)),
        idx.map(lambda i: ("single family", single_family(i))),
        st.tuples(table, idx).map(lambda a: (f"shuffle {a[0]}", shuffle_rows(*a))),
        st.sampled_from([None, "1999-01-01", "2025-13-45", "tomorrow", "2100-01-01", ""]).map(
            lambda d: (f"manifest {d}", manifest_date(d))
        ),
        st.just(("manifest broken", manifest_broken)),
    )


@dataclass(frozen=True)
class Case:
    """One fuzz example: a seed, corruptions and an as-of date."""

    seed: int
    steps: tuple[tuple[str, Corruption], ...]
    as_of: str

    def describe(self) -> str:
        names = "; ".join(name for name, _ in self.steps) or "none"
        return f"seed {self.seed}, as of {self.as_of}, corruptions: {names}"


def cases() -> st.SearchStrategy[Case]:
    """The hypothesis strategy of fuzz cases."""
    return st.builds(
        Case,
        seed=st.sampled_from(SEEDS),
        steps=st.lists(corruptions(), min_size=0, max_size=3).map(tuple),
        as_of=st.sampled_from(AS_OF_DATES),
    )


def write_case(case: Case, root: Path) -> Path:
    """Write the corrupted records of ``case`` as Parquet files into ``root``."""
    records = population(case.seed)
    frames = frames_of(records)
    manifest: dict = {"extraction_date": records.extraction_date.date().isoformat()}
    for _, step in case.steps:
        step(frames, manifest)
    root.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        pq.write_table(table, root / f"{name}.parquet")
    if manifest.pop("__broken__", False):
        (root / "manifest.json").write_text("{ not json", encoding="utf-8")
    elif manifest.get("extraction_date") is not None:
        (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


# ---- the commands under test ----------------------------------------------------------------


def cli_app() -> typer.Typer:
    """The real ``risk`` app (every command registered)."""
    from family_risk.cli import app

    return app


def train_tiny_model(out: Path) -> Path:
    """Train a small LightGBM model on the features of seed 0 and save it with RiskModel.save."""
    from risk._model import Capacity, RiskModel

    records = population(0)
    X = build_features(records, "2025-06-30")
    names = [f for f in ("n_children", "single_parent", "large_family") if f in FEATURES]
    names += [f for f, spec in FEATURES.items() if spec.role == "risk" and f not in names][:5]
    names = [f for f in names if FEATURES[f].role == "risk"]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, len(X)).astype(float)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_in_leaf": 2, "num_leaves": 4},
        lgb.Dataset(X[names].to_numpy(dtype=float), y),
        num_boost_round=3,
    )
    # One flag per district: enough to exercise the queue, few enough to keep examples fast.
    return RiskModel(booster, tuple(names), capacity=Capacity(default=1)).save(out)


@dataclass
class Outcome:
    """What a command did with one case: ``ok`` or the rule it stopped at."""

    command: str
    rule: str | None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.rule is None


def _stderr(result: object) -> str:
    try:
        return str(result.stderr)  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return str(result.output)  # type: ignore[attr-defined]


def _check_refusal(command: str, result: object, outputs: list[Path], case: Case) -> Outcome:
    exc = result.exception  # type: ignore[attr-defined]
    assert exc is None or isinstance(exc, SystemExit), (
        f"{command}: unhandled {type(exc).__name__}: {exc} ({case.describe()})"
    )
    code = result.exit_code  # type: ignore[attr-defined]
    if code == 0:
        return Outcome(command, None)
    err = _stderr(result).strip()
    assert code == 2, f"{command}: exit code {code}: {err} ({case.describe()})"
    first = err.splitlines()[0] if err else ""
    match = ERROR_LINE.match(first)
    assert match, f"{command}: message does not name a table: {err!r} ({case.describe()})"
    assert "Traceback" not in err, err
    for out in outputs:
        assert not out.exists(), f"{command}: wrote {out} although it failed ({case.describe()})"
    return Outcome(command, match["rule"] or "as_of_after_extraction", first)


@dataclass
class Checker:
    """Runs the commands on cases; keeps a model and a review store for the whole session."""

    workdir: Path
    model_dir: Path = field(init=False)
    store_url: str = field(init=False)
    runner: CliRunner = field(default_factory=CliRunner)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.model_dir = train_tiny_model(self.workdir / "model")
        self.store_url = f"sqlite:///{self.workdir / 'review.db'}"
        self.app = cli_app()
        self._n = 0

    def _runs(self) -> int:
        from risk.review import ReviewQueue

        with ReviewQueue(self.store_url) as q:
            return len(q.runs())

    def check(self, case: Case) -> list[Outcome]:
        """Run validation, ``risk features`` and ``risk score`` on ``case``; assert the property."""
        self._n += 1
        root = self.workdir / f"case{self._n}"
        data = write_case(case, root / "data")
        try:
            return [
                self._validation(case, data),
                self._features(case, data, root),
                self._score(case, data, root),
            ]
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _validation(self, case: Case, data: Path) -> Outcome:
        # `risk train --data` starts with exactly this: load_records validates; then it trains.
        try:
            load_records(data)
        except RecordsError as exc:
            msg = f"error: {exc}"
            match = ERROR_LINE.match(msg)
            assert match, f"load_records: message does not name a table: {exc} ({case.describe()})"
            return Outcome("validate", match["rule"], msg)
        return Outcome("validate", None)

    def _features(self, case: Case, data: Path, root: Path) -> Outcome:
        out = root / "features.parquet"
        args = ["features", "--data", str(data), "--as-of", case.as_of, "--out", str(out)]
        result = self.runner.invoke(self.app, args)
        outcome = _check_refusal("features", result, [out], case)
        if outcome.ok:
            frame = pd.read_parquet(out)
            assert frame.index.is_unique and frame.index.name == "family_id", case.describe()
            assert set(FEATURES) <= set(frame.columns), case.describe()
        return outcome

    def _score(self, case: Case, data: Path, root: Path) -> Outcome:
        out = root / "scores.parquet"
        explained = root / "scores.explanations.parquet"
        before = self._runs()
        args = [
            "score",
            "--data",
            str(data),
            "--as-of",
            case.as_of,
            "--model",
            str(self.model_dir),
            "--out",
            str(out),
            "--store",
            self.store_url,
            # The model's one flag per district (the region pack's capacity would flag most).
            "--capacity",
            "1",
        ]
        result = self.runner.invoke(self.app, args)
        outcome = _check_refusal("score", result, [out, explained], case)
        after = self._runs()
        if outcome.ok:
            scores = pd.read_parquet(out)
            assert scores["score"].between(0, 1).all(), case.describe()
            assert explained.exists(), case.describe()
            assert after - before in (0, 1), case.describe()
        else:
            assert after == before, (
                f"score wrote a queue run although it failed ({case.describe()})"
            )
        return outcome
