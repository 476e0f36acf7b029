"""Training of the family-distress model: from records (or any feature table) to a promoted model.

The data team's package. :func:`train` builds labelled snapshots from validated records, splits
them in time, fits LightGBM, calibrates it, evaluates it against two baselines (and the synthetic
truth, when there is one) and audits it for fairness; :func:`train_table` does the same on a
user's own feature table. Both return a :class:`TrainingRun`, which :func:`log_training_run`
logs to MLflow and registers as ``challenger``, and :func:`render_model_card` documents.
:func:`promote` moves ``champion`` to a registered version only when every gate of
:func:`check_gates` passes; :func:`rollback` moves it back to an earlier champion in a named
person's name. :func:`list_versions`, :func:`get_version` and :func:`read_version_audit` read
the registry; :func:`format_versions` and :func:`format_comparison` show it.

Everything but the MLflow edge (:func:`log_training_run`, :func:`promote`, :func:`rollback`
and the registry readers) is pure, and importing
this package does not import MLflow.

Examples
--------
>>> from training import load_config
>>> cfg = load_config()
>>> cfg.model.name, cfg.model.horizon_days
('family-distress', 365)
"""

from training._card import OUT_OF_SCOPE_USES, render_model_card, write_model_card
from training._config import ConfigError, ModelConfig, PromotionSection, load_config
from training._data import SplitError, TemporalSplit, load_truth, temporal_split
from training._gates import (
    GateResult,
    PromotionError,
    check_gates,
    explain_flag,
    fairness_flags,
)
from training._pipeline import train
from training._promote import (
    CHAMPION,
    PromotionRefused,
    PromotionResult,
    RollbackResult,
    promote,
    rollback,
)
from training._registry import get_version, list_versions, read_version_audit
from training._run import Evaluation, Progress, RandomSplit, TrainingRun
from training._table import train_table
from training._table_inputs import TableError, read_table
from training._tracking import CHALLENGER, log_training_run, tracking_uri
from training._versions import VersionRecord, format_comparison, format_versions

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "OUT_OF_SCOPE_USES",
    "ConfigError",
    "Evaluation",
    "GateResult",
    "ModelConfig",
    "Progress",
    "PromotionError",
    "PromotionRefused",
    "PromotionResult",
    "PromotionSection",
    "RandomSplit",
    "RollbackResult",
    "SplitError",
    "TableError",
    "TemporalSplit",
    "TrainingRun",
    "VersionRecord",
    "check_gates",
    "explain_flag",
    "fairness_flags",
    "format_comparison",
    "format_versions",
    "get_version",
    "list_versions",
    "load_config",
    "load_truth",
    "log_training_run",
    "promote",
    "read_table",
    "read_version_audit",
    "render_model_card",
    "rollback",
    "temporal_split",
    "tracking_uri",
    "train",
    "train_table",
    "write_model_card",
]
