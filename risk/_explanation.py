"""Why a family got its score: the exact contributions of one family, and their plain text."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from features import DEFAULT_LOOKBACK_DAYS, DOMAIN_NAMES, FEATURES, SOURCE_NAMES
from risk._render import (
    _check_lang,
    format_log_odds,
    format_points,
    format_value,
    percentage_points,
    render_contribution,
)
from risk.messages import RISK

#: Columns of :attr:`Explanation.contributions`, in order.
CONTRIBUTION_COLUMNS: tuple[str, ...] = (
    "feature",
    "value",
    "contribution",
    "domain",
    "description_ru",
    "description_en",
)

#: Columns of :meth:`Screening.explanations_frame`.
EXPLANATION_COLUMNS: tuple[str, ...] = ("family_id", "feature", "value", "contribution", "domain")


@dataclass(frozen=True, eq=False)
class Explanation:
    """Why a family got its score: exact per-feature contributions to the log-odds.

    Attributes
    ----------
    family_id : str
    base_log_odds : float
        The log-odds of the family the contributions are measured against: the typical family
        (each signal at its median over the training population) or, for a model without
        one, the average family (the calibrated expected margin).
    log_odds : float
        The family's calibrated log-odds: ``base_log_odds + contributions.contribution.sum()``.
    score : float
        The calibrated probability, ``1 / (1 + exp(-log_odds))``.
    contributions : pandas.DataFrame
        One row per model feature, ``feature``, ``value``, ``contribution``, ``domain``,
        ``description_ru``, ``description_en``, sorted by absolute contribution (largest first).
    by_domain : pandas.Series
        Sum of contributions per need domain (every domain of :data:`features.DOMAINS`).
    coverage : dict of str to bool
        Per source, whether the family has any record from it in the lookback; ``False`` is
        what the model cannot see.
    lookback_days : int
        The model's lookback (a recency beyond it means "no record").
    units : dict of str to str
        Unit of each feature the built-in registry lacks (a region's own record types).
    baseline : {"typical", "average"}
        Which family ``base_log_odds`` is (see :attr:`risk.RiskModel.baseline`).

    Examples
    --------
    >>> import pandas as pd
    >>> e = Explanation(
    ...     family_id="F1", base_log_odds=-3.0, log_odds=-1.5, score=0.1824,
    ...     contributions=pd.DataFrame({
    ...         "feature": ["school_absence_days_90d", "single_parent"], "value": [23.0, 0.0],
    ...         "contribution": [1.8, -0.3], "domain": ["child_development", "parenting_relations"],
    ...         "description_ru": ["Дни пропусков школы без уважительной причины за 90 дней",
    ...                            "Один родитель или опекун в семье"],
    ...         "description_en": ["School days missed without a valid reason in the last 90 days",
    ...                            "One parent or guardian in the family"]}),
    ...     by_domain=pd.Series({"child_development": 1.8, "parenting_relations": -0.3}),
    ...     coverage={"education": True, "police": False}, baseline="typical")
    >>> print(e.to_text("en"))
    Estimate 18.2% (typical family 4.7%). The estimate orders a review queue; it decides nothing.
    Child development and education (+14.7 percentage points):
      - School days missed without a valid reason in the last 90 days: 23 days → raises the estimate by 14.7 percentage points
    Parenting and relationships (-4.9 percentage points):
      - One parent or guardian in the family: no → lowers the estimate by 4.9 percentage points
    No records from: Police (the model cannot see them).
    >>> print(e.to_text("en", exact=True).splitlines()[0])
    Estimate 18.2% (log-odds -1.50; typical family 4.7%, log-odds -3.00). The estimate orders a review queue; it decides nothing.
    """  # noqa: E501

    family_id: str
    base_log_odds: float
    log_odds: float
    score: float
    contributions: pd.DataFrame
    by_domain: pd.Series
    coverage: Mapping[str, bool] = field(default_factory=dict)
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    units: Mapping[str, str] = field(default_factory=dict)
    baseline: str = "average"

    def to_text(
        self,
        lang: Literal["ru", "en"] = "ru",
        *,
        top: int = 8,
        min_abs: float = 0.01,
        exact: bool = False,
    ) -> str:
        """Render the explanation as plain sentences, grouped by need domain.

        Each feature's sentence is :func:`risk.render_contribution`'s, as on the review app's
        family card.

        Parameters
        ----------
        lang : {"ru", "en"}
        top : int
            Show at most this many features (the largest contributions).
        min_abs : float
            Leave out features whose contribution is smaller than this in absolute value.
        exact : bool
            Add the exact figures: log-odds of the family, the typical (or average) family and each
            contribution, and each trend's value (by default only words and percentage points).

        Raises
        ------
        ScreeningError
            ``lang`` is not ``'ru'`` or ``'en'``.
        """
        lang = _check_lang(lang)
        ru = lang == "ru"
        shown = self.contributions[self.contributions["contribution"].abs() >= min_abs].head(top)
        pct = format_value(100 * self.score, "", lang) + "%"
        base_p = format_value(100 / (1 + math.exp(-self.base_log_odds)), "", lang) + "%"
        if ru:
            pct, base_p = pct.replace("%", "\u00a0%"), base_p.replace("%", "\u00a0%")
        log_odds, base = (
            format_log_odds(self.log_odds, lang),
            format_log_odds(self.base_log_odds, lang),
        )
        who = RISK.text(
            lang, f"text.baseline.{'typical' if self.baseline == 'typical' else 'average'}"
        )
        figures = RISK.text(lang, "text.figures_exact" if exact else "text.figures").format(
            who=who, base_p=base_p, log_odds=log_odds, base=base
        )
        lines = [RISK.text(lang, "text.estimate").format(pct=pct, figures=figures)]
        domain_order = sorted(
            shown["domain"].unique(), key=lambda d: -abs(float(self.by_domain.get(d, 0.0)))
        )
        for domain in domain_order:
            name = DOMAIN_NAMES[domain][0 if ru else 1] if domain in DOMAIN_NAMES else domain
            domain_total = float(self.by_domain.get(domain, 0.0))
            total = format_points(percentage_points(domain_total, self.log_odds), lang)
            if exact:
                total += f"; {format_log_odds(domain_total, lang)}"
            lines.append(f"{name} ({total}):")
            for row in shown[shown["domain"] == domain].to_dict(orient="records"):
                feature = str(row["feature"])
                unit = (
                    FEATURES[feature].unit if feature in FEATURES else self.units.get(feature, "")
                )
                entry = {**row, "unit": unit}
                text = render_contribution(
                    entry,
                    lang,
                    lookback_days=self.lookback_days,
                    log_odds=self.log_odds,
                    exact=exact,
                )
                lines.append(f"  - {text}")
        unseen = [SOURCE_NAMES[s][0 if ru else 1] for s, seen in self.coverage.items() if not seen]
        if unseen:
            lines.append(RISK.text(lang, "text.unseen").format(sources=", ".join(unseen)))
        return "\n".join(lines)
