"""The model definition (``models/family_distress.toml``) as frozen, validated dataclasses."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from features import InputError
from risk.monitoring import Thresholds

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "models" / "family_distress.toml"


class ConfigError(InputError):
    """The model definition is malformed: the message names the file, section and key."""


@dataclass(frozen=True)
class ModelSection:
    name: str = "family-distress"
    description: str = ""
    horizon_days: int = 365
    lookback_days: int = 1095


@dataclass(frozen=True)
class SnapshotSection:
    first_as_of: str = "2021-01-01"
    last_as_of: str = "auto"
    frequency_months: int = 3


@dataclass(frozen=True)
class FeatureSection:
    exclude: tuple[str, ...] = ("disabled_child", "disabled_parent", "low_income")


@dataclass(frozen=True)
class LightGBMSection:
    params: Mapping[str, Any] = field(default_factory=dict)
    num_boost_round: int = 600
    early_stopping_rounds: int = 50
    # Features (patterns expanded) whose higher values may only raise, or only lower, the score.
    monotone_increasing: tuple[str, ...] = ()
    monotone_decreasing: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapacitySection:
    default: int = 25
    min_score: float = 0.05
    per_district: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PromotionSection:
    max_ece: float = 0.02
    beat_baselines: tuple[str, ...] = ("logreg", "rule")
    fairness_band: tuple[float, float] = (0.8, 1.25)
    fairness_attributes: tuple[str, ...] = ()
    fairness_metrics: tuple[str, ...] = ("fpr", "fnr", "ppv")
    min_group_size: int = 1000
    explained_fairness_flags: tuple[str, ...] = ()
    # Flags a person explained for one version at promotion (never read from the file).
    explained_at_promotion: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelConfig:
    """The whole model definition."""

    path: str
    model: ModelSection
    snapshots: SnapshotSection
    features: FeatureSection
    lightgbm: LightGBMSection
    calibration_method: str
    capacity: CapacitySection
    rule: str
    promotion: PromotionSection
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    monitoring: Thresholds = field(default_factory=Thresholds)
    #: ``[training] treatment``: what training does with the treatment record ("censor" drops
    #: the label windows outreach may have changed; "ignore" learns from them as they are).
    treatment: str = "censor"


CALIBRATION_METHODS = ("platt",)
RULES = ("low_income_and_police_365d",)
TREATMENT_MODES = ("censor", "ignore")


class _Reader:
    def __init__(self, path: str, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data

    def section(self, name: str, *, required: bool = True) -> Mapping[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(f"{self.path}: section [{name}] is missing")
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.path}: [{name}] must be a table")
        return value

    def get(self, section: str, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        table = self.section(section.split(".")[0], required=default is ...)
        for part in section.split(".")[1:]:
            table = table.get(part, {})
        if key not in table:
            if default is ...:
                raise ConfigError(f"{self.path}: [{section}] {key} is missing")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            raise ConfigError(f"{self.path}: [{section}] {key} must be {names}; got {value!r}")
        return value

    def positive(self, section: str, key: str, kind: type, default: Any = ...) -> Any:
        value = self.get(section, key, kind, default)
        if value <= 0:
            raise ConfigError(f"{self.path}: [{section}] {key} must be positive; got {value!r}")
        return value

    def one_of(self, section: str, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(section, key, str, default)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise ConfigError(
                f"{self.path}: [{section}] {key} must be one of {allowed}; got {value!r}"
            )
        return str(value)


def load_config(path: str | Path | None = None) -> ModelConfig:
    """Read and validate a model definition.

    Examples
    --------
    >>> cfg = load_config()
    >>> cfg.model.horizon_days, "low_income" in cfg.features.exclude
    (365, True)
    """
    file = Path(path) if path is not None else DEFAULT_CONFIG
    if not file.exists():
        raise ConfigError(f"{file}: no such model definition")
    try:
        data = tomllib.loads(file.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from exc
    r = _Reader(str(file), data)
    from features import FEATURES

    exclude = tuple(r.get("features", "exclude", list, []))
    unknown = [str(f) for f in exclude if not isinstance(f, str) or f not in FEATURES]
    if unknown:
        raise ConfigError(
            f"{file}: [features] exclude names unknown features: {', '.join(unknown)}"
        )

    lgb_table = dict(r.section("lightgbm"))
    rounds = r.positive("lightgbm", "num_boost_round", int, 600)
    stopping = r.positive("lightgbm", "early_stopping_rounds", int, 50)
    monotone = {
        key: _monotone_features(r, key) for key in ("monotone_increasing", "monotone_decreasing")
    }
    both = sorted(set(monotone["monotone_increasing"]) & set(monotone["monotone_decreasing"]))
    if both:
        raise ConfigError(
            f"{file}: [lightgbm] monotone_increasing and monotone_decreasing both name: "
            f"{', '.join(both)}"
        )
    for key in ("num_boost_round", "early_stopping_rounds", *monotone):
        lgb_table.pop(key, None)
    r.positive("lightgbm", "learning_rate", float, 0.05)
    r.positive("lightgbm", "num_leaves", int, 15)

    cap_table = r.section("capacity", required=False).get("per_district", {})
    if not isinstance(cap_table, Mapping) or any(
        not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in cap_table.values()
    ):
        raise ConfigError(
            f"{file}: [capacity.per_district] values must be non-negative integers; "
            f"got {cap_table!r}"
        )
    band = r.get("promotion", "fairness_band", list, [0.8, 1.25])
    if (
        len(band) != 2
        or not all(isinstance(b, int | float) for b in band)
        or not band[0] < 1 < band[1]
    ):
        raise ConfigError(
            f"{file}: [promotion] fairness_band must be [low, high] around 1; got {band!r}"
        )
    min_score = r.get("capacity", "min_score", (float, int), 0.05)
    if not 0 <= min_score < 1:
        raise ConfigError(f"{file}: [capacity] min_score must be in [0, 1); got {min_score!r}")
    monitoring = _monitoring(r)
    _check_date(r, "snapshots", "first_as_of")
    if r.get("snapshots", "last_as_of", str, "auto") != "auto":
        _check_date(r, "snapshots", "last_as_of")
    return ModelConfig(
        path=str(file),
        model=ModelSection(
            name=r.get("model", "name", str),
            description=r.get("model", "description", str, ""),
            horizon_days=r.positive("model", "horizon_days", int),
            lookback_days=r.positive("model", "lookback_days", int, 1095),
        ),
        snapshots=SnapshotSection(
            first_as_of=r.get("snapshots", "first_as_of", str),
            last_as_of=r.get("snapshots", "last_as_of", str, "auto"),
            frequency_months=r.positive("snapshots", "frequency_months", int, 3),
        ),
        features=FeatureSection(exclude=exclude),
        lightgbm=LightGBMSection(
            params=lgb_table,
            num_boost_round=rounds,
            early_stopping_rounds=stopping,
            **monotone,
        ),
        calibration_method=r.one_of("calibration", "method", CALIBRATION_METHODS, "platt"),
        capacity=CapacitySection(
            default=r.positive("capacity", "default", int, 25),
            min_score=float(min_score),
            per_district=dict(cap_table),
        ),
        rule=r.one_of("baselines", "rule", RULES, RULES[0]),
        promotion=PromotionSection(
            max_ece=r.positive("promotion", "max_ece", float, 0.02),
            beat_baselines=tuple(r.get("promotion", "beat_baselines", list, ["logreg", "rule"])),
            fairness_band=(float(band[0]), float(band[1])),
            fairness_attributes=tuple(r.get("promotion", "fairness_attributes", list, [])),
            fairness_metrics=tuple(
                r.get("promotion", "fairness_metrics", list, ["fpr", "fnr", "ppv"])
            ),
            min_group_size=r.positive("promotion", "min_group_size", int, 1000),
            explained_fairness_flags=tuple(
                r.get("promotion", "explained_fairness_flags", list, [])
            ),
        ),
        raw=data,
        monitoring=monitoring,
        treatment=r.one_of("training", "treatment", TREATMENT_MODES, "censor"),
    )


def _monitoring(r: _Reader) -> Thresholds:
    """Read ``[monitoring]``: PSI thresholds in order, counts and precision in range."""
    d = Thresholds()
    warn = float(r.get("monitoring", "psi_warn", (float, int), d.psi_warn))
    alert = float(r.get("monitoring", "psi_alert", (float, int), d.psi_alert))
    if warn <= 0:
        raise ConfigError(f"{r.path}: [monitoring] psi_warn must be positive; got {warn!r}")
    if alert < warn:
        raise ConfigError(
            f"{r.path}: [monitoring] psi_alert must be at least psi_warn ({warn}); got {alert!r}"
        )
    runs = r.get("monitoring", "max_degraded_runs", int, d.max_degraded_runs)
    if runs < 0:
        raise ConfigError(
            f"{r.path}: [monitoring] max_degraded_runs must be non-negative; got {runs!r}"
        )
    precision = r.get("monitoring", "min_expected_precision", (float, int), 0.0)
    if not 0 <= precision <= 1:
        raise ConfigError(
            f"{r.path}: [monitoring] min_expected_precision must be in [0, 1]; got {precision!r}"
        )
    return Thresholds(warn, alert, int(runs), float(precision))


def _monotone_features(r: _Reader, key: str) -> tuple[str, ...]:
    """Expand ``[lightgbm] key``: feature names or shell patterns, each matching a feature."""
    from fnmatch import fnmatchcase

    from features import FEATURES

    patterns = r.get("lightgbm", key, list, [])
    out: dict[str, None] = {}  # ordered, without duplicates
    unknown = []
    for pattern in patterns:
        matched = (
            [f for f in FEATURES if fnmatchcase(f, pattern)] if isinstance(pattern, str) else []
        )
        if not matched:
            unknown.append(repr(pattern))
        out.update(dict.fromkeys(matched))
    if unknown:
        raise ConfigError(
            f"{r.path}: [lightgbm] {key} names no feature of the registry: {', '.join(unknown)}"
        )
    return tuple(out)


def _check_date(r: _Reader, section: str, key: str) -> None:
    value = r.get(section, key, str)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{r.path}: [{section}] {key} must be a date YYYY-MM-DD; got {value!r}"
        ) from None
