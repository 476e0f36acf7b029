"""Thresholds of the model definition, the check over runs, and the HTML report."""

import numpy as np
import pandas as pd
import pytest

from risk.monitoring import Thresholds, check_thresholds, format_runs, render_html
from tests.risk.monitoring.conftest import ROOT
from training import ConfigError, load_config

DEFINITION = (ROOT / "models" / "family_distress.toml").read_text("utf-8")


def runs(**columns) -> pd.DataFrame:
    base = {
        "run_name": ["score-2024-04-01-aaaa", "score-2024-07-01-bbbb"],
        "as_of": pd.to_datetime(["2024-04-01", "2024-07-01"]),
        "model_version": ["3", "3"],
        "population": [1800.0, 1810.0],
        "flags": [134.0, 134.0],
        "degraded": [False, False],
        "missing_feeds": ["none", "none"],
        "score_psi": [0.01, 0.02],
        "max_feature_psi": [0.03, 0.05],
        "max_psi_feature": ["school_absence_n_90d", "months_since_registration"],
        "expected_precision": [0.18, 0.17],
    }
    return pd.DataFrame({**base, **columns})


def test_the_model_definition_holds_the_thresholds():
    section = load_config().monitoring
    assert section.psi_warn < section.psi_alert
    assert section.max_degraded_runs == 0 and 0 < section.min_expected_precision < 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("psi_alert = 0.25", "psi_alert = 0.05", r"\[monitoring\] psi_alert must be at least"),
        ("psi_warn = 0.1 ", "psi_warn = 0 ", r"\[monitoring\] psi_warn must be positive"),
        ("max_degraded_runs = 0", "max_degraded_runs = -1", r"max_degraded_runs must be non-neg"),
        ("min_expected_precision = 0.05", "min_expected_precision = 5", r"in \[0, 1\]; got 5"),
        ("psi_alert = 0.25", "psi_alert = 'high'", r"\[monitoring\] psi_alert must be float"),
    ],
)
def test_bad_thresholds_name_the_file_section_and_key(tmp_path, old, new, message):
    assert old in DEFINITION
    path = tmp_path / "m.toml"
    path.write_text(DEFINITION.replace(old, new), "utf-8")
    with pytest.raises(ConfigError, match=rf"m\.toml: .*{message}"):
        load_config(path)


def test_a_definition_without_the_section_takes_the_defaults(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(DEFINITION.split("[monitoring]")[0], "utf-8")
    assert load_config(path).monitoring == load_config(path).monitoring.__class__()


def test_quiet_runs_cross_nothing():
    assert check_thresholds(runs(), Thresholds()) == []


def test_each_threshold_is_reported_with_its_run():
    frame = runs(
        score_psi=[0.12, 0.3],
        expected_precision=[0.18, 0.02],
        degraded=[False, True],
        missing_feeds=["none", "borovichsky: police"],
    )
    got = [
        (b.level, b.run, b.message) for b in check_thresholds(frame, Thresholds(0.1, 0.25, 0, 0.05))
    ]
    assert got == [
        ("warn", "score-2024-04-01-aaaa", "score PSI 0.120 >= 0.1"),
        ("alert", "score-2024-07-01-bbbb", "score PSI 0.300 >= 0.25"),
        ("alert", "score-2024-07-01-bbbb", "expected precision 0.020 < 0.05"),
        (
            "alert",
            "all runs",
            "degraded runs: 1, allowed 0: score-2024-07-01-bbbb (borovichsky: police)",
        ),
    ]
    assert check_thresholds(frame.iloc[:1], Thresholds(0.1, 0.25, 0, 0.05))[0].level == "warn"


def test_a_run_without_a_reference_has_no_psi_and_crosses_no_psi_threshold():
    frame = runs(score_psi=[np.nan, np.nan], max_feature_psi=[np.nan, np.nan])
    assert check_thresholds(frame, Thresholds()) == []
    assert "–" in format_runs(frame)


def test_the_report_shows_text_as_text():
    frame = runs(degraded=[False, True], missing_feeds=["none", "<script>x</script>"])
    page = render_html(frame, check_thresholds(frame, Thresholds()), Thresholds(), {"fig": b"png"})
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'class="degraded"' in page and "data:image/png;base64,cG5n" in page
