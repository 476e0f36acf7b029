"""Broken records never pass silently, never crash deep inside, and never leave partial output.

Each example corrupts a small valid population (dropped and renamed columns, wrong dtypes,
unknown codes, duplicate and orphan ids, future, absurd and null dates, negative, NaN and
infinite values, empty tables, a single family, a broken manifest) and runs every command that
reads records: ``risk features`` and ``risk score`` through the CLI, and for ``risk train`` the
validation it starts with (``load_records``; training itself is too slow per example).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings

from features import load_records
from tests.paths import SAMPLE
from tests.reliability.records_fuzz import Case, Checker, cases, empty_all, single_family

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Checker:
    return Checker(tmp_path_factory.mktemp("fuzz"))


@settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
@given(case=cases())
def test_corrupted_records_work_or_fail_cleanly(checker: Checker, case: Case) -> None:
    outcomes = checker.check(case)
    by_command = {o.command: o for o in outcomes}
    # Every command reads the same records: validation refuses exactly what the commands refuse.
    if not by_command["validate"].ok:
        assert not by_command["features"].ok and not by_command["score"].ok, case.describe()


def test_uncorrupted_population_scores(checker: Checker) -> None:
    outcomes = checker.check(Case(seed=0, steps=(), as_of="2025-06-30"))
    assert all(o.ok for o in outcomes), outcomes


def test_empty_tables_work(checker: Checker) -> None:
    outcomes = checker.check(Case(seed=1, steps=(("empty all", empty_all),), as_of="2025-06-30"))
    assert all(o.ok for o in outcomes), outcomes


def test_a_single_family_works(checker: Checker) -> None:
    case = Case(seed=2, steps=(("single family", single_family(3)),), as_of="2025-06-30")
    assert all(o.ok for o in checker.check(case))


def test_the_committed_sample_is_valid() -> None:
    assert load_records(SAMPLE).n_families > 0
