"""A region pack's ``[review]`` table: the working calendar's country and the review deadlines."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from risk.regions import ReviewSettings, check_region, load_region, region_path, shipped_regions

# The shipped packs' [review] table, up to the blank line after it.
TABLE = re.compile(r"^\[review\]\n(?:.+\n)+", re.MULTILINE)


def _pack_with(tmp_path: Path, review: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(region_path("novgorod"), folder)
    toml = folder / "region.toml"
    text, n = TABLE.subn(review.strip() + "\n", toml.read_text(encoding="utf-8"))
    assert n == 1
    toml.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("code", shipped_regions())
def test_every_shipped_pack_names_its_calendar_and_deadlines(code: str) -> None:
    assert load_region(code).review == ReviewSettings("RU", None, 10, 3)


@pytest.mark.parametrize(
    ("review", "where", "message"),
    [
        ('[review]\ncountry = "XX"\nsla_working_days = 10\nfirst_contact_working_days = 3',
         "[review].country", "'XX' is not a country code"),
        ('[review]\ncountry = "RU"\nsubdivision = "MOW"\nsla_working_days = 10\n'
         "first_contact_working_days = 3", "[review].subdivision", "not a subdivision of RU"),
        ('[review]\ncountry = "RU"\nsla_working_days = 0\nfirst_contact_working_days = 3',
         "[review].sla_working_days", "must be a whole number >= 1; got 0"),
        ('[review]\ncountry = "RU"\nsla_working_days = 10', "[review].first_contact_working_days",
         "required key is missing"),
        ('[review]\ncountry = "RU"\nsla_working_days = 10\nfirst_contact_working_days = 3\n'
         "sla = 4", "[review].sla", "unknown key"),
    ],
)  # fmt: skip
def test_the_check_names_each_bad_review_key(
    tmp_path: Path, review: str, where: str, message: str
) -> None:
    problems = check_region(_pack_with(tmp_path, review))
    assert [(p.where, message in p.message) for p in problems] == [(where, True)]


def test_a_pack_without_review_counts_monday_to_friday(tmp_path: Path) -> None:
    from risk.review import WorkingCalendar

    pack = load_region(_pack_with(tmp_path, ""))
    assert pack.review is None and WorkingCalendar.for_region(pack) == WorkingCalendar()
