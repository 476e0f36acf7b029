"""Evaluation designs on a small simulation with a known effect, and the outreach in the world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from family_risk.cli import app
from risk.evaluation import (
    callaway_santanna,
    evaluate,
    read_simulation,
    rollout_schedule,
    simulate_outreach,
    write_report,
    write_simulation,
)
from risk.regions import load_region

N = 4000


@pytest.fixture(scope="module")
def plan() -> dict[str, int]:
    return rollout_schedule("novosibirsk")


@pytest.fixture(scope="module")
def with_effect(plan):
    return simulate_outreach(N, seed=3, rollout=plan, quarters=8, outreach_effect=0.3)


@pytest.fixture(scope="module")
def no_effect(plan):
    return simulate_outreach(N, seed=3, rollout=plan, quarters=8, outreach_effect=0.0)


def test_rollout_takes_its_districts_from_the_pack(plan) -> None:
    pack = load_region("novosibirsk")
    assert set(plan) == set(pack.district_codes)
    names = {pack.district_name(c, "en").split()[0]: q for c, q in plan.items()}
    assert {names[n] for n in ("Tatarsky", "Vengerovsky", "Kuibyshevsky")} == {2}
    assert names["Bolotninsky"] == 4 and names["Berdsk"] == 6


def test_known_effect_is_within_the_intervals(with_effect) -> None:
    ev = evaluate(with_effect)
    by = {(e.design, e.outcome): e for e in ev.estimates}
    designs = [k for k in by if k[0].startswith(("RD", "Staggered"))]
    assert len(designs) == 5
    for key in designs:
        e = by[key]
        assert e.truth is not None and e.truth < 0, key
        assert e.covers(e.truth), (key, e)
    # The confounded comparison does not: offered families are the riskiest.
    naive = by[("Offered vs not flagged (descriptive, confounded)", "label")]
    assert naive.estimate > 0 > naive.truth and not naive.covers(naive.truth)
    assert 0.5 < by[("RD, fuzzy (accepted support)", "label")].checks["first_stage"] < 0.95


def test_no_effect_intervals_cover_zero(no_effect) -> None:
    ev = evaluate(no_effect)
    assert len(no_effect.truth.potential) == 0
    for e in ev.estimates:
        if e.design.startswith(("RD", "Staggered")):
            assert e.truth == 0.0
            assert e.covers(0.0), e


def test_potential_outcomes_are_consistent(with_effect) -> None:
    truth = with_effect.truth
    pot = truth.potential
    treated = set(
        with_effect.treatments.loc[
            with_effect.treatments["outreach_started_at"].notna(), "family_id"
        ]
    )
    assert set(pot["family_id"]) == treated
    both = truth.snapshots.merge(pot, on=["family_id", "as_of"])
    assert len(both) == len(pot)
    # With-outreach outcomes are the observed ones.
    np.testing.assert_array_equal(both["label"], both["label_with"])
    np.testing.assert_array_equal(both["distress"], both["distress_with"])
    # Outreach only lowers hazards, and before a family's first outreach the paths agree.
    first = with_effect.treatments.groupby("family_id")["outreach_started_at"].min()
    before = both[both["as_of"] < both["family_id"].map(first) - pd.DateOffset(years=1)]
    assert len(before) > 0
    np.testing.assert_array_equal(before["label_with"], before["label_without"])
    assert both["distress_with"].sum() < both["distress_without"].sum()


def test_callaway_santanna_matches_two_group_did_by_hand() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for unit in range(200):
        group = 2 if unit < 80 else 99
        for period in range(4):
            y = rng.normal() + 0.2 * period + (0.5 if group <= period else 0.0)
            rows.append((unit, period, group, y))
    panel = pd.DataFrame(rows, columns=["unit", "period", "group", "y"])
    result = callaway_santanna(panel, "y", n_boot=99)
    mean = panel.groupby(["group", "period"])["y"].mean()
    for t in (2, 3):
        by_hand = (mean[2, t] - mean[2, 1]) - (mean[99, t] - mean[99, 1])
        cell = result.cells.query("group == 2 and period == @t")["att"].item()
        assert cell == pytest.approx(by_hand)
    pre = result.cells.query("period == 1")["att"].item()
    assert pre == pytest.approx((mean[2, 1] - mean[2, 0]) - (mean[99, 1] - mean[99, 0]))
    assert result.overall.covers(0.5)


def test_evaluate_command_writes_the_report(with_effect, tmp_path) -> None:
    data = write_simulation(with_effect, tmp_path / "sim")
    back = read_simulation(data)
    assert len(back.treatments) == len(with_effect.treatments)
    result = CliRunner().invoke(
        app, ["evaluate", "--data", str(data), "--out", str(tmp_path / "report.html")]
    )
    assert result.exit_code == 0, result.output
    assert "RD, sharp (offer)" in result.output and "pre-trends" in result.output
    html = (tmp_path / "report.html").read_text()
    assert html.count("<img") == 3 and "CONFOUNDED" in html


def test_evaluate_command_names_a_missing_table(tmp_path) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "treatments.parquet is missing" in result.output


def test_all_districts_at_once_still_gives_the_discontinuity(tmp_path) -> None:
    # Every district starts in the same quarter: no district is a comparison for another, so
    # the rollout design is not estimable, but the regression discontinuity still is.
    at_once = {code: 1 for code in load_region("novosibirsk").district_codes}
    sim = simulate_outreach(1500, seed=5, rollout=at_once, quarters=4, outreach_effect=0.3)
    ev = evaluate(sim, n_boot=19)
    assert ev.did is None
    designs = {e.design for e in ev.estimates}
    assert any(d.startswith("RD") for d in designs)
    assert not any("rollout" in d.lower() for d in designs)
    report = tmp_path / "report.html"
    write_report(ev, report)
    assert "not estimable" in report.read_text("utf-8")
