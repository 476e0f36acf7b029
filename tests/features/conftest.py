"""Fixtures for the feature tests: a small synthetic population and a tiny-records factory."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import pytest

from features import Records

Row = tuple


def _dates(values: Sequence[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[s]")


def make_records(
    families: Sequence[Row] = (),
    members: Sequence[Row] = (),
    events: Sequence[Row] = (),
    outcomes: Sequence[Row] = (),
) -> Records:
    """Tiny records from tuples.

    families: (family_id, registered_on); members: (member_id, family_id, role, birth_date,
    disability); events: (event_id, family_id, event_type, event_date, value); outcomes:
    (family_id, outcome_date).
    """
    from features import EVENT_TYPES

    fam = pd.DataFrame(
        {
            "family_id": pd.Series([f[0] for f in families], dtype="str"),
            "district": pd.Series(["d1"] * len(families), dtype="str"),
            "settlement": pd.Series(["urban"] * len(families), dtype="str"),
            "registered_on": _dates([f[1] for f in families]),
        }
    )
    mem = pd.DataFrame(
        {
            "member_id": pd.Series([m[0] for m in members], dtype="str"),
            "family_id": pd.Series([m[1] for m in members], dtype="str"),
            "role": pd.Series([m[2] for m in members], dtype="str"),
            "birth_date": _dates([m[3] for m in members]),
            "sex": pd.Series(["F"] * len(members), dtype="str"),
            "disability": pd.Series([bool(m[4]) for m in members], dtype=bool),
        }
    )
    ev = pd.DataFrame(
        {
            "event_id": pd.Series([e[0] for e in events], dtype="str"),
            "family_id": pd.Series([e[1] for e in events], dtype="str"),
            "member_id": pd.Series([None] * len(events), dtype="str"),
            "source": pd.Series([EVENT_TYPES[e[2]].source for e in events], dtype="str"),
            "event_type": pd.Series([e[2] for e in events], dtype="str"),
            "event_date": _dates([e[3] for e in events]),
            "value": pd.Series([e[4] for e in events], dtype="float64"),
        }
    )
    out = pd.DataFrame(
        {
            "family_id": pd.Series([o[0] for o in outcomes], dtype="str"),
            "outcome_date": _dates([o[1] for o in outcomes]),
            "outcome_type": pd.Series(["kdn_case"] * len(outcomes), dtype="str"),
        }
    )
    return Records(fam, mem, ev, out, extraction_date=pd.Timestamp("2030-12-31"))


@pytest.fixture(scope="session")
def records_factory() -> Callable[..., Records]:
    return make_records


@pytest.fixture(scope="session")
def synthetic() -> Records:
    """A seeded synthetic population of 300 families (validated)."""
    from risk.synth import generate

    records, _ = generate(300, seed=3)
    return records.validate()
