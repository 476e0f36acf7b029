"""One effect estimate: value, 95% interval, truth when known, assumptions and their checks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Estimate:
    """One effect estimate with its 95% interval and what it rests on."""

    design: str
    outcome: str
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    truth: float | None = None
    assumptions: tuple[str, ...] = ()
    checks: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def covers(self, value: float) -> bool:
        """Whether the 95% interval contains ``value``."""
        return bool(self.ci_low <= value <= self.ci_high)
