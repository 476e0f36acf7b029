"""Does outreach help? Evaluation designs that need no withholding of help, and a simulation.

See ``docs/evaluation.md``: regression discontinuity at the capacity cut-off, staggered-rollout
difference-in-differences, and a (confounded) descriptive comparison, each with its
assumptions; and a minimal outreach loop on the synthetic world, whose truth knows the effect.
"""

from risk.evaluation._did import DidResult, callaway_santanna
from risk.evaluation._estimate import Estimate
from risk.evaluation._evaluate import (
    Evaluation,
    did_panel,
    evaluate,
    naive_comparison,
    outcome_frame,
)
from risk.evaluation._rd import density_test, rd_estimate, rd_frame
from risk.evaluation._report import format_estimates, write_report
from risk.evaluation._simulate import (
    NOVOSIBIRSK_PILOTS,
    RANK_COLUMNS,
    TREATMENT_COLUMNS,
    Simulation,
    read_simulation,
    rollout_schedule,
    simulate_outreach,
    write_simulation,
)

__all__ = [
    "NOVOSIBIRSK_PILOTS",
    "RANK_COLUMNS",
    "TREATMENT_COLUMNS",
    "DidResult",
    "Estimate",
    "Evaluation",
    "Simulation",
    "callaway_santanna",
    "density_test",
    "did_panel",
    "evaluate",
    "format_estimates",
    "naive_comparison",
    "outcome_frame",
    "rd_estimate",
    "rd_frame",
    "read_simulation",
    "rollout_schedule",
    "simulate_outreach",
    "write_report",
    "write_simulation",
]
