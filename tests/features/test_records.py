"""One test per validation rule, each with its exact message."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from features import Records, RecordsError, load_records
from risk.synth import generate


@pytest.fixture(scope="module")
def records() -> Records:
    recs, _ = generate(200, seed=3)
    return recs


def _break(records: Records, table: str, fn) -> Records:
    frame = records.table(table).copy()
    frame = fn(frame)
    return records.replace(**{table: frame})


def test_generated_records_are_valid(records: Records) -> None:
    assert records.validate() is records


def test_validate_does_not_mutate(records: Records) -> None:
    before = {name: records.table(name).copy() for name in ("families", "events")}
    bad = _break(records, "events", lambda f: f.assign(value=-f["value"].fillna(1.0)))
    with pytest.raises(RecordsError):
        bad.validate()
    for name, frame in before.items():
        pd.testing.assert_frame_equal(records.table(name), frame)


def test_missing_column(records: Records) -> None:
    bad = _break(records, "members", lambda f: f.drop(columns=["sex"]))
    with pytest.raises(
        RecordsError, match=r"^members\.sex: required column\(s\) missing: sex \[missing_column\]$"
    ):
        bad.validate()


def test_mistyped_column(records: Records) -> None:
    bad = _break(records, "events", lambda f: f.assign(event_date=f["event_date"].astype(str)))
    with pytest.raises(
        RecordsError, match=r"^events\.event_date: expected date, got dtype .* \[mistyped_column\]$"
    ):
        bad.validate()


def test_null_in_required(records: Records) -> None:
    def null_district(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[:2], "district"] = None
        return f

    bad = _break(records, "families", null_district)
    ids = ", ".join(records.families["family_id"].iloc[:2])
    with pytest.raises(
        RecordsError,
        match=re.escape(f"families.district: 2 rows are null [null_in_required] (family_id {ids})"),
    ):
        bad.validate()


def test_unknown_code(records: Records) -> None:
    def typo(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[0], "role"] = "mothr"
        return f

    bad = _break(records, "members", typo)
    first = records.members["member_id"].iloc[0]
    with pytest.raises(
        RecordsError,
        match=re.escape(
            "members.role: 1 row have unknown codes ['mothr']; allowed: mother, father, guardian, "
            f"child [unknown_code] (member_id {first})"
        ),
    ):
        bad.validate()


def test_duplicate_id(records: Records) -> None:
    def dup(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[1], "event_id"] = f.loc[f.index[0], "event_id"]
        return f

    bad = _break(records, "events", dup)
    e = records.events["event_id"].iloc[0]
    with pytest.raises(
        RecordsError,
        match=re.escape(f"events.event_id: 2 rows share an id [duplicate_id] (event_id {e}, {e})"),
    ):
        bad.validate()


@pytest.mark.parametrize("table", ["members", "events", "outcomes"])
def test_unknown_family(records: Records, table: str) -> None:
    def orphan(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[0], "family_id"] = "F-nobody"
        return f

    bad = _break(records, table, orphan)
    with pytest.raises(
        RecordsError,
        match=rf"^{table}\.family_id: 1 row refer to no known family \[unknown_family\]",
    ):
        bad.validate()


def test_future_date(records: Records) -> None:
    def future(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[:3], "event_date"] = pd.Timestamp("2026-02-01")
        return f

    bad = _break(records, "events", future)
    ids = ", ".join(records.events["event_id"].iloc[:3])
    with pytest.raises(
        RecordsError,
        match=re.escape(
            "events.event_date: 3 rows are after the extraction date 2025-12-31 [future_date] "
            f"(event_id {ids})"
        ),
    ):
        bad.validate()


def test_absurd_date(records: Records) -> None:
    def ancient(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.index[0], "birth_date"] = pd.Timestamp("1850-01-01")
        return f

    bad = _break(records, "members", ancient)
    with pytest.raises(
        RecordsError,
        match=r"^members\.birth_date: 1 row are before 1900-01-01 \[date_out_of_range\]",
    ):
        bad.validate()


def test_negative_value(records: Records) -> None:
    def negative(f: pd.DataFrame) -> pd.DataFrame:
        row = f.index[f["event_type"] == "utility_debt"][0]
        f.loc[row, "value"] = -100.0
        return f

    bad = _break(records, "events", negative)
    with pytest.raises(
        RecordsError, match=r"^events\.value: 1 row have negative values \[negative_value\]"
    ):
        bad.validate()


def test_missing_value_for_unit_type(records: Records) -> None:
    def missing(f: pd.DataFrame) -> pd.DataFrame:
        row = f.index[f["event_type"] == "school_absence"][0]
        f.loc[row, "value"] = np.nan
        return f

    bad = _break(records, "events", missing)
    with pytest.raises(
        RecordsError,
        match=r"^events\.value: 1 row have no value but their type needs one \[null_in_required\]",
    ):
        bad.validate()


def test_source_mismatch(records: Records) -> None:
    def wrong(f: pd.DataFrame) -> pd.DataFrame:
        row = f.index[f["event_type"] == "utility_debt"][0]
        f.loc[row, "source"] = "police"
        return f

    bad = _break(records, "events", wrong)
    with pytest.raises(
        RecordsError,
        match=r"^events\.source: 1 row name a source other than their event type's "
        r"\[source_mismatch\]",
    ):
        bad.validate()


def test_member_of_other_family(records: Records) -> None:
    def swap(f: pd.DataFrame) -> pd.DataFrame:
        row = f.index[f["member_id"].notna()][0]
        other = records.members.loc[
            records.members["family_id"] != f.loc[row, "family_id"], "member_id"
        ].iloc[0]
        f.loc[row, "member_id"] = other
        return f

    bad = _break(records, "events", swap)
    with pytest.raises(RecordsError, match=r"\[member_of_other_family\]"):
        bad.validate()


def test_unknown_member(records: Records) -> None:
    def ghost(f: pd.DataFrame) -> pd.DataFrame:
        row = f.index[f["member_id"].notna()][0]
        f.loc[row, "member_id"] = "M-ghost"
        return f

    bad = _break(records, "events", ghost)
    with pytest.raises(
        RecordsError, match=r"^events\.member_id: 1 row refer to no known member \[unknown_member\]"
    ):
        bad.validate()


def test_round_trip_and_missing_table(records: Records, tmp_path) -> None:
    out = records.to_parquet(tmp_path / "recs")
    back = load_records(out)
    for name in ("families", "members", "events", "outcomes"):
        pd.testing.assert_frame_equal(back.table(name), records.table(name), check_dtype=False)
    assert back.extraction_date == records.extraction_date
    (out / "outcomes.parquet").unlink()
    with pytest.raises(RecordsError, match=r"^outcomes: file .* does not exist \[missing_table\]$"):
        load_records(out)


def test_ids_are_capped_at_five(records: Records) -> None:
    bad = _break(records, "events", lambda f: f.assign(event_date=pd.Timestamp("2030-01-01")))
    with pytest.raises(RecordsError) as info:
        bad.validate()
    assert len(info.value.ids) == 5
    assert info.value.n_rows == len(records.events)
    assert f"… {len(records.events) - 5} more" in str(info.value)
