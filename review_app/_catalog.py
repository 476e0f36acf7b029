"""Services of a district for the decision form, from ``risk``'s services catalog."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from review_app._i18n import Lang


@dataclass(frozen=True)
class DistrictServices:
    """Services of each district, as (service_id, Russian label, English label)."""

    catalog: Any

    @functools.cache  # noqa: B019 - a handful of districts, the catalog lives as long as the app
    def district(self, district: str) -> tuple[tuple[str, str, str], ...]:
        """Return the district's services (none for a district the catalog does not know)."""
        from risk import CatalogError

        if self.catalog is None:
            return ()
        try:
            frame = self.catalog.for_district(district)
        except CatalogError:
            return ()
        return tuple(
            (
                str(r.service_id),
                f"{r.name_ru} — {r.organisation_ru}",
                f"{r.name_en} — {r.organisation_en}",
            )
            for r in frame.itertuples()
        )

    def names(self, district: str, lang: Lang) -> dict[str, str]:
        """Return service_id to label in ``lang`` for the district."""
        return {sid: (ru if lang == "ru" else en) for sid, ru, en in self.district(district)}
