"""Training that knows its own outreach: which label windows the treatment record censors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.paths import SAMPLE
from training._data import treated_windows

H = 365


def _index(dates: list[str], families: list[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_product(
        [pd.to_datetime(dates), families], names=["as_of", "family_id"]
    )


def test_windows_touched_are_those_outreach_may_have_changed() -> None:
    t = pd.Timestamp("2023-01-01")
    starts = {
        "before_horizon": t - pd.Timedelta(days=H),  # a full horizon before T: over
        "inside_lookback": t - pd.Timedelta(days=H - 1),  # may still be acting at T
        "on_as_of": t,
        "late_in_window": t + pd.Timedelta(days=H - 1),
        "at_window_end": t + pd.Timedelta(days=H),  # changes nothing in (T, T + H]
        "declined": pd.NaT,
    }
    families = [*starts, "never_offered"]
    idx = _index(["2023-01-01"], families)
    tr = pd.DataFrame({"family_id": list(starts), "outreach_started_at": list(starts.values())})
    touched = dict(zip(families, treated_windows(idx, tr, H), strict=True))
    assert touched == {
        "before_horizon": False,
        "inside_lookback": True,
        "on_as_of": True,
        "late_in_window": True,
        "at_window_end": False,
        "declined": False,
        "never_offered": False,
    }


def test_each_snapshot_is_judged_by_its_own_date() -> None:
    idx = _index(["2021-01-01", "2022-01-01", "2023-01-01", "2024-06-01"], ["a", "b"])
    # Two offers to "a": the first touches 2021 and 2022, the second 2024-06; the 2023 window
    # ends before the second begins, more than a horizon after the first.
    tr = pd.DataFrame(
        {
            "family_id": ["a", "a", "b"],
            "outreach_started_at": ["2021-06-01", "2024-03-01", None],
        }
    )
    got = treated_windows(idx, tr, H).reshape(4, 2)
    assert got[:, 0].tolist() == [True, True, False, True]
    assert got[:, 1].tolist() == [False, False, False, False]
    assert not treated_windows(idx, None, H).any()
    assert not treated_windows(idx, tr.iloc[:0], H).any()


def test_config_key_defaults_to_censor_and_is_checked(tmp_path) -> None:
    from training import ConfigError, load_config

    cfg = load_config()
    assert cfg.treatment == "censor"
    text = Path(cfg.path).read_text(encoding="utf-8")
    bad = tmp_path / "model.toml"
    bad.write_text(text.replace('treatment = "censor"', 'treatment = "weight"'), "utf-8")
    with pytest.raises(ConfigError, match=r"\[training\] treatment"):
        load_config(bad)
    ignore = tmp_path / "ignore.toml"
    ignore.write_text(text.replace('treatment = "censor"', 'treatment = "ignore"'), "utf-8")
    assert load_config(ignore).treatment == "ignore"


@pytest.fixture(scope="module")
def censored_and_naive():
    from features import load_records
    from training import load_config, train

    records = load_records(SAMPLE)
    cfg = load_config()
    cfg = dataclasses.replace(cfg, lightgbm=dataclasses.replace(cfg.lightgbm, num_boost_round=60))
    rng = np.random.default_rng(0)
    fams = records.families["family_id"].to_numpy()
    chosen = rng.choice(fams, size=len(fams) // 10, replace=False)
    starts = pd.to_datetime("2022-01-01") + pd.to_timedelta(
        rng.integers(0, 365, size=len(chosen)), unit="D"
    )
    treatments = pd.DataFrame({"family_id": chosen, "outreach_started_at": starts})
    runs = {
        mode: train(
            records,
            dataclasses.replace(cfg, treatment=mode),
            treatments=treatments,
            compare_exclusions=False,
            n_boot=5,
        )
        for mode in ("censor", "ignore")
    }
    return runs, treatments


def test_censoring_drops_exactly_the_touched_training_windows(censored_and_naive) -> None:
    runs, treatments = censored_and_naive
    censor, naive = runs["censor"], runs["ignore"]
    touched = censor.metrics["treated_windows"]
    assert touched > 0
    assert naive.metrics["treated_windows"] == touched
    assert censor.metrics["censored_windows"] == touched
    assert naive.metrics["censored_windows"] == 0
    learned = ("train", "validation")
    dropped = sum(naive.n_rows[k] - censor.n_rows[k] for k in learned)
    assert dropped == touched
    assert censor.n_rows["test"] == naive.n_rows["test"]  # the test snapshot stays whole
    assert 0 < censor.metrics["treated_families"] <= treatments["family_id"].nunique()


def test_model_card_says_what_the_treatment_record_touched(censored_and_naive) -> None:
    from training import render_model_card

    runs, _ = censored_and_naive
    card = render_model_card(runs["censor"], date="2026-01-01")
    m = runs["censor"].metrics
    expected = (
        f"left out {int(m['treated_windows']):,} training and validation label windows of "
        f"{int(m['treated_families']):,} families"
    )
    assert expected in card
    assert "rated the families it had helped at" in card  # the simulation's finding
    assert "learned from" in render_model_card(runs["ignore"], date="2026-01-01")
