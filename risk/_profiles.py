"""Regional profiles of the synthetic population, calibrated on the seed figures.

Figures come from the seed articles (``shared/seeds``):

* Novgorod region: 76 thousand families with children, 111 thousand children, 20,441 children
  in low-income families (18.4 %), 2,357 disabled children (2.1 %), 363 minors in a socially
  dangerous situation; 20 family and children centres and 11 family departments.
* Novosibirsk region: every fourth child is born into a large family; the family-distress
  prevention pilot ran in Tatarsky, Vengerovsky and Kuibyshevsky districts, then Bolotninsky.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProfileName = Literal["novgorod", "novosibirsk"]


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


NOVGOROD = Profile(
    name="novgorod",
    full_size=76_000,
    districts=(
        District("velikiy_novgorod", "Великий Новгород", "Veliky Novgorod", 0.40, 1.0),
        District("borovichsky", "Боровичский район", "Borovichsky district", 0.10, 0.78),
        District("starorussky", "Старорусский район", "Starorussky district", 0.09, 0.72),
        District("novgorodsky", "Новгородский район", "Novgorodsky district", 0.10, 0.15),
        District("valdaysky", "Валдайский район", "Valdaysky district", 0.045, 0.65),
        District("chudovsky", "Чудовский район", "Chudovsky district", 0.045, 0.70),
        District("malovishersky", "Маловишерский район", "Malovishersky district", 0.035, 0.60),
        District("okulovsky", "Окуловский район", "Okulovsky district", 0.04, 0.62),
        District("pestovsky", "Пестовский район", "Pestovsky district", 0.035, 0.64),
        District("soletsky", "Солецкий район", "Soletsky district", 0.025, 0.50),
        District("krestetsky", "Крестецкий район", "Krestetsky district", 0.02, 0.40),
        District("shimsky", "Шимский район", "Shimsky district", 0.02, 0.30),
        District("demyansky", "Демянский район", "Demyansky district", 0.015, 0.35),
        District("khvoyninsky", "Хвойнинский район", "Khvoyninsky district", 0.015, 0.40),
    ),
    children_per_family=111_000 / 76_000,
    large_family_child_share=0.17,
    low_income_child_share=20_441 / 111_000,
    disabled_child_share=2_357 / 111_000,
    outcome_rate_12m=0.03,
    sop_rate_12m=0.0035,
)

NOVOSIBIRSK = Profile(
    name="novosibirsk",
    full_size=330_000,
    districts=(
        District("novosibirsk_city", "Новосибирск", "Novosibirsk", 0.55, 1.0),
        District("berdsk", "Бердск", "Berdsk", 0.05, 1.0),
        District("iskitimsky", "Искитимский район", "Iskitimsky district", 0.06, 0.45),
        District("novosibirsky", "Новосибирский район", "Novosibirsky district", 0.08, 0.35),
        District("karasuksky", "Карасукский район", "Karasuksky district", 0.03, 0.55),
        District("barabinsky", "Барабинский район", "Barabinsky district", 0.035, 0.65),
        District("tatarsky", "Татарский район", "Tatarsky district", 0.035, 0.55),
        District("kuibyshevsky", "Куйбышевский район", "Kuibyshevsky district", 0.04, 0.60),
        District("bolotninsky", "Болотнинский район", "Bolotninsky district", 0.03, 0.50),
        District("vengerovsky", "Венгеровский район", "Vengerovsky district", 0.02, 0.0),
        District("kupinsky", "Купинский район", "Kupinsky district", 0.025, 0.55),
        District("ordynsky", "Ордынский район", "Ordynsky district", 0.03, 0.20),
    ),
    children_per_family=1.62,
    large_family_child_share=0.25,
    low_income_child_share=0.20,
    disabled_child_share=0.022,
    outcome_rate_12m=0.03,
    sop_rate_12m=0.0035,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (NOVGOROD, NOVOSIBIRSK)}


def get_profile(name: str) -> Profile:
    """Return the profile called ``name``.

    Examples
    --------
    >>> get_profile("novgorod").full_size
    76000
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
