from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from features._ids import has_duplicates


@pytest.mark.parametrize("width", [8, 9, 11, 16])
@pytest.mark.parametrize("large", [False, True])
def test_has_duplicates_is_false_only_for_distinct_ids(width: int, large: bool) -> None:
    kind = pa.large_string() if large else pa.string()
    rng = np.random.default_rng(width)
    ids: list[str | None] = [f"E{v:0{width - 1}d}" for v in rng.permutation(5000)]
    ids[::13] = [None] * len(ids[::13])  # nulls are not ids
    assert has_duplicates(pa.array(ids, kind)) is False
    chunked = pa.chunked_array([pa.array(ids[:2000], kind), pa.array(ids[2000:], kind)])
    assert has_duplicates(chunked) is False
    assert has_duplicates(pa.array(ids, kind).slice(3, 4000)) is False
    twice = [*ids[:10], ids[1]]
    assert has_duplicates(pa.array(twice, kind)) is None
    apart = pa.chunked_array([pa.array(ids[1:3], kind), pa.array(ids[2:4], kind)])
    assert has_duplicates(apart) is None


def test_ids_that_differ_only_inside_are_distinct() -> None:
    # The two words cover the id wholly, even where they overlap (widths 9 to 15).
    assert has_duplicates(pa.array(["A000000000001", "A000000X00001"])) is False
    assert has_duplicates(pa.array(["A000000000001", "A000000000001"])) is None


def test_other_shapes_are_left_to_the_string_kernel() -> None:
    assert has_duplicates(pa.array(["E1", "E2"])) is None  # shorter than 8
    assert has_duplicates(pa.array(["E" * 17, "F" * 17])) is None  # longer than 16
    assert has_duplicates(pa.array(["E0000001", "E00000002"])) is None  # two widths
    chunked = pa.chunked_array([pa.array(["E0000001"]), pa.array(["E00000002"])])
    assert has_duplicates(chunked) is None
    assert has_duplicates(pa.array([None, None], pa.string())) is None
    assert has_duplicates(pa.array([1, 2])) is None
