from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from features._ids import IdSet, has_duplicates
from features._ids import index_in as _index_in


def index_in(values: pa.Array | pa.ChunkedArray, value_set: pa.Array) -> np.ndarray | None:
    return _index_in(values, IdSet.of(value_set))


def _ids(rng: np.random.Generator, n: int, width: int, pool: int) -> list[str]:
    return [f"X{v:0{width - 1}d}" for v in rng.integers(0, pool, n)]


def _reference(values: pa.Array | pa.ChunkedArray, value_set: pa.Array) -> np.ndarray:
    found = pc.index_in(values, value_set=value_set).fill_null(-1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int32)


@pytest.mark.parametrize("width", [8, 9, 11, 16])
@pytest.mark.parametrize("large", [False, True])
def test_index_in_equals_arrows_string_kernel(width: int, large: bool) -> None:
    rng = np.random.default_rng(width)
    kind = pa.large_string() if large else pa.string()
    value_set = pa.array(sorted(set(_ids(rng, 500, width, 10**6))), kind)
    raw = _ids(rng, 3000, width, 10**6)
    raw[::7] = [value_set[i].as_py() for i in rng.integers(0, len(value_set), len(raw[::7]))]
    values: list[str | None] = list(raw)
    values[::11] = [None] * len(values[::11])
    chunked = pa.chunked_array([pa.array(values[:1000], kind), pa.array(values[1000:], kind)])
    sliced = pa.array(values, kind).slice(5, 2000)
    for v in (pa.array(values, kind), chunked, sliced):
        got = index_in(v, value_set)
        assert got is not None
        np.testing.assert_array_equal(got, _reference(v, value_set))
    assert (index_in(pa.array(values, kind), value_set) >= 0).sum() > 300


def test_index_in_ids_of_another_width_or_all_null() -> None:
    value_set = pa.array(["A0000001", "A0000002"])
    np.testing.assert_array_equal(index_in(pa.array(["A00000010", None]), value_set), [-1, -1])
    np.testing.assert_array_equal(
        index_in(pa.array([None, None], pa.string()), value_set), [-1, -1]
    )
    # Words share bytes with a member but the id differs in the middle.
    np.testing.assert_array_equal(
        index_in(
            pa.array(["A000000000000001", "A000000X00000001"]), pa.array(["A000000000000001"])
        ),
        [0, -1],
    )


def test_index_in_leaves_other_shapes_to_the_string_kernel() -> None:
    assert index_in(pa.array(["a", "b"]), pa.array(["a"])) is None  # shorter than 8
    assert index_in(pa.array(["A0000001"]), pa.array(["A0000001", "A00000001"])) is None
    assert index_in(pa.array(["A0000001", "A00000001"]), pa.array(["A0000001"])) is None
    assert index_in(pa.array(["A0000001"]), pa.array(["A0000001", None])) is None
    assert index_in(pa.array(["A" * 17]), pa.array(["A" * 17])) is None


def test_has_duplicates() -> None:
    assert has_duplicates(pa.array(["E0000000001", "E0000000002", None, None])) is False
    assert has_duplicates(pa.array(["E0000000001", "E0000000001"])) is None
    assert has_duplicates(pa.array(["E1", "E2"])) is None
    chunked = pa.chunked_array([pa.array(["E0000000001"]), pa.array(["E0000000001"])])
    assert has_duplicates(chunked) is None
    rng = np.random.default_rng(0)
    unique = [f"E{v:010d}" for v in rng.permutation(10**5)]
    assert has_duplicates(pa.array(unique, pa.large_string())) is False
