"""Regional profiles of the synthetic population: a region pack's generator targets.

A profile is the part of a region pack (:mod:`risk.regions`) that the synthetic generator uses:
its districts with their shares, and the ``[synthetic]`` targets. Nothing regional is written
here; the figures live in the packs (``risk/regions/packs/*/region.toml``, sources in their
README files).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from risk.regions import RegionPack

ProfileName = str


@dataclass(frozen=True)
class District:
    """One district of a profile."""

    code: str
    name_ru: str
    name_en: str
    share: float  # share of the region's families
    urban_share: float  # share of its families in urban settlements


@dataclass(frozen=True)
class Profile:
    """Targets and structure of one region."""

    name: str
    full_size: int
    districts: tuple[District, ...]
    children_per_family: float
    large_family_child_share: float  # share of children living in families with 3+ children
    low_income_child_share: float
    disabled_child_share: float
    outcome_rate_12m: float
    sop_rate_12m: float

    @classmethod
    def from_region(cls, pack: RegionPack) -> Profile:
        """Return the generator's profile of a region pack.

        Raises
        ------
        risk.regions.RegionError
            The pack has no ``[synthetic]`` targets, or a district without ``share`` or
            ``urban_share``.

        Examples
        --------
        >>> from risk.regions import load_region
        >>> profile = Profile.from_region(load_region("novgorod"))
        >>> profile.full_size, profile.district("shimsky").share
        (76000, 0.02)
        """
        from risk.regions import RegionError

        targets = pack.synthetic
        lacking = [d.code for d in pack.districts if d.share is None or d.urban_share is None]
        if targets is None or lacking:
            why = (
                "has no [synthetic] targets"
                if targets is None
                else f"gives no share or urban_share for districts {', '.join(lacking)}"
            )
            raise RegionError(
                f"region pack {pack.code!r} ({pack.path}) {why}: the synthetic generator needs them"
            )
        return cls(
            name=pack.code,
            full_size=targets.families,
            districts=tuple(
                District(
                    d.code, d.name_ru, d.name_en, float(d.share or 0), float(d.urban_share or 0)
                )
                for d in pack.districts
            ),
            children_per_family=targets.children_per_family,
            large_family_child_share=targets.large_family_child_share,
            low_income_child_share=targets.low_income_child_share,
            disabled_child_share=targets.disabled_child_share,
            outcome_rate_12m=targets.outcome_rate_12m,
            sop_rate_12m=targets.sop_rate_12m,
        )

    def district(self, code: str) -> District:
        """Return the district with this code."""
        for d in self.districts:
            if d.code == code:
                return d
        raise KeyError(f"profile {self.name} has no district {code!r}")

    @property
    def targets(self) -> dict[str, float]:
        """The figures ``manifest.json`` reports, by name."""
        return {
            "children_per_family": self.children_per_family,
            "low_income_child_share": self.low_income_child_share,
            "disabled_child_share": self.disabled_child_share,
            "large_family_share": self.large_family_child_share,
            "outcome_rate_12m": self.outcome_rate_12m,
            "sop_rate_12m": self.sop_rate_12m,
        }


class _ShippedProfiles(Mapping[str, Profile]):
    """The profiles of the shipped region packs, by name, each read on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, Profile] = {}

    def _names(self) -> tuple[str, ...]:
        from risk.regions import shipped_regions

        return shipped_regions()

    def __getitem__(self, name: str) -> Profile:
        if name not in self._loaded:
            if name not in self._names():
                raise KeyError(name)
            from risk.regions import load_region

            self._loaded[name] = Profile.from_region(load_region(name))
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"PROFILES({', '.join(self._names())})"


PROFILES: Mapping[str, Profile] = _ShippedProfiles()
"""The profiles of the shipped region packs, by name (read when first asked for)."""


def get_profile(region: str | os.PathLike[str] | Profile | RegionPack) -> Profile:
    """Return the profile of a region: a shipped pack's name, a pack folder, or a pack.

    Examples
    --------
    >>> get_profile("novgorod").full_size
    76000
    >>> get_profile("moscow")
    Traceback (most recent call last):
    ...
    risk.regions._pack.RegionError: unknown profile 'moscow': region pack 'moscow' is not a folder, nor a shipped pack (chelyabinsk, novgorod, novosibirsk)
    """  # noqa: E501
    from risk.regions import RegionError, RegionPack, load_region, region_path

    if isinstance(region, Profile):
        return region
    if isinstance(region, RegionPack):
        return Profile.from_region(region)
    if isinstance(region, str) and region in PROFILES:
        return PROFILES[region]
    try:
        folder = region_path(region)
    except RegionError as exc:
        raise RegionError(f"unknown profile {os.fspath(region)!r}: {exc}") from None
    return Profile.from_region(load_region(folder))
