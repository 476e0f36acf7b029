"""Region packs: everything specific to a region, in a folder, validated once.

A pack holds the region's districts, outreach capacity, services catalogue and new record types;
see ``docs/regions.md``.
"""

from risk.regions._load import (
    DEFAULT_REGION,
    check_districts,
    check_region,
    load_region,
    region_path,
    shipped_regions,
)
from risk.regions._pack import (
    RegionDistrict,
    RegionError,
    RegionPack,
    RegionProblem,
    ReviewSettings,
    SyntheticTargets,
)

__all__ = [
    "DEFAULT_REGION",
    "RegionDistrict",
    "RegionError",
    "RegionPack",
    "RegionProblem",
    "ReviewSettings",
    "SyntheticTargets",
    "check_districts",
    "check_region",
    "load_region",
    "region_path",
    "shipped_regions",
]
