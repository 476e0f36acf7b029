"""The codes of a services catalogue, shared by the catalogue and the region packs' checks."""

from __future__ import annotations

ELIGIBILITY: tuple[str, ...] = (
    "any",
    "disabled_child",
    "low_income",
    "large_family",
    "single_parent",
    "teenager",
    "young_child",
)
"""Eligibility codes: ``teenager`` is a child aged 12-17, ``young_child`` a child under 7."""

CATEGORIES: tuple[str, ...] = (
    "disabled_children",
    "difficult_situation",
    "low_income",
    "parenting_school",
    "family_rehabilitation",
    "temporary_housing",
    "teen_leisure",
)
"""Service categories, after the programmes of the seed articles."""

COLUMNS: tuple[str, ...] = (
    "service_id",
    "region",
    "category",
    "name_ru",
    "name_en",
    "organisation_ru",
    "organisation_en",
    "domains",
    "eligibility",
    "districts",
)
"""Columns of a catalog file, in order."""

ALL_DISTRICTS = "*"
"""In a catalogue's ``districts``: every district of the service's region."""
SEPARATOR = ";"
"""Separates the codes of a list column in a catalogue file."""
