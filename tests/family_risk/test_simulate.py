"""``risk simulate`` end to end: a small region through the real review store (SQLite)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from family_risk._simulate import SimulateOptions, run_simulation, simulated_treatments
from features import InputError


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    opts = SimulateOptions(families=2400, quarters=3, seed=3, rollout="pilots", n_boot=5)
    return run_simulation(opts, out), out


def test_every_flag_of_an_adopted_district_reached_the_queue(simulated) -> None:
    from risk.evaluation import read_simulation
    from risk.review import ReviewQueue

    result, out = simulated
    ranks = read_simulation(out).ranks
    queue = ReviewQueue(result.store_url)
    for run_id in result.run_dates:
        r = ranks[ranks["run_id"] == run_id]
        expected = set(r.loc[r["flagged"] & r["adopted"], "family_id"])
        items = queue.items(run_id=run_id)
        assert set(items["family_id"]) == expected
        assert len(items) == len(expected)
    # Pilots first: the first quarter's queue holds only the pack's first wave.
    first = queue.items(run_id=next(iter(result.run_dates)))
    from risk.regions import load_region

    assert set(first["district"]) <= set(load_region("novosibirsk").rollout[0])


def test_decisions_and_follow_ups_are_in_the_store_and_audited(simulated) -> None:
    from risk.review import ReviewQueue

    result, _ = simulated
    queue = ReviewQueue(result.store_url)
    items = queue.items()
    decisions = queue.decisions()
    assert len(decisions) == len(items) > 0
    log = queue.audit_log()
    counts = log["action"].value_counts()
    assert counts["view_family"] == counts["decision"] == len(items)
    offered = decisions[decisions["decision"] == "support_offered"]
    follow_ups = queue.follow_ups()
    assert len(follow_ups) == len(offered) == counts["followup_open"]
    assert queue.verify_audit_log().ok


def test_treatment_record_matches_the_worlds_treated_families(simulated) -> None:
    from risk.evaluation import read_simulation
    from risk.review import ReviewQueue

    result, out = simulated
    queue = ReviewQueue(result.store_url)
    record = simulated_treatments(queue, result.run_dates)
    took = record[record["outreach_started_at"].notna()]
    world = result.treated.assign(as_of=lambda f: f["as_of"].astype("datetime64[s]"))
    got = took[["family_id", "outreach_started_at"]].rename(
        columns={"outreach_started_at": "as_of"}
    )
    key = ["family_id", "as_of"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True)[key],
        world.sort_values(key).reset_index(drop=True)[key],
        check_dtype=False,
    )
    sim = read_simulation(out)
    written = sim.treatments.copy()
    for col in ("decided_at", "outreach_started_at"):
        written[col] = pd.to_datetime(written[col]).astype("datetime64[s]")
    pd.testing.assert_frame_equal(written, record, check_dtype=False)
    # The truth holds both potential outcomes of every family the world treated.
    assert set(world["family_id"]) <= set(sim.truth.potential["family_id"])


def test_risk_evaluate_runs_on_the_output(simulated) -> None:
    from family_risk.cli import app

    _, out = simulated
    res = CliRunner().invoke(app, ["evaluate", "--data", str(out)])
    assert res.exit_code == 0, res.output
    assert "RD" in res.output


def test_bad_arguments_are_refused(tmp_path) -> None:
    with pytest.raises(InputError, match="--acceptance"):
        run_simulation(SimulateOptions(acceptance=1.5), tmp_path)
    with pytest.raises(InputError, match=r"\[rollout\]"):
        run_simulation(SimulateOptions(region="novgorod", rollout="pilots"), tmp_path)


def test_the_command_refuses_an_unknown_retraining_schedule(tmp_path) -> None:
    from family_risk.cli import app

    res = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--retrain", "often"])
    assert res.exit_code == 2
    assert "every-K-quarters" in res.output
