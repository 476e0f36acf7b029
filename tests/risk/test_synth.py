"""The synthetic generator: determinism, validity, figures, truth and the bias knobs."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from family_risk.cli import app
from features import load_records
from risk import _latent as lat
from risk.synth import SynthConfig, World, generate, write_population

N = 3000


@pytest.fixture(scope="module")
def population():
    return generate(N, seed=11)


@pytest.fixture(scope="module")
def surveilled():
    return generate(N, seed=11, surveillance_bias=3.0)


@pytest.fixture(scope="module")
def label_biased():
    return generate(N, seed=11, label_bias=3.0)


def _digest(path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_byte_identical_files(tmp_path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(
            app, ["synth", "--families", "400", "--seed", "5", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert set(a) == {
        "families.parquet",
        "members.parquet",
        "events.parquet",
        "outcomes.parquet",
        "manifest.json",
        "truth/families.parquet",
        "truth/snapshots.parquet",
    }
    assert a == b


def test_output_is_valid_records(population, tmp_path) -> None:
    records, truth = population
    out = write_population(records, truth, tmp_path / "pop")
    back = load_records(out)
    assert back.n_families == N
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["profile"] == "novgorod"
    assert set(manifest["figures"]) == {
        "children_per_family",
        "low_income_child_share",
        "disabled_child_share",
        "large_family_share",
        "outcome_rate_12m",
        "sop_rate_12m",
    }
    assert len(manifest["oracle"]) == 16


@pytest.mark.parametrize(
    ("figure", "tolerance"),
    [
        ("children_per_family", 0.05),
        ("low_income_child_share", 0.15),
        ("large_family_share", 0.2),
        ("disabled_child_share", 0.4),
        ("outcome_rate_12m", 0.2),
        ("sop_rate_12m", 0.5),
    ],
)
def test_figures_near_targets_at_a_few_thousand_families(population, figure, tolerance) -> None:
    manifest = population[1].manifest
    value, target = manifest["figures"][figure], manifest["targets"][figure]
    assert abs(value - target) / target < tolerance, (figure, value, target)


def test_outcome_rates_in_the_design_range(population) -> None:
    figures = population[1].manifest["figures"]
    assert 0.02 <= figures["outcome_rate_12m"] <= 0.04
    assert 0.002 <= figures["sop_rate_12m"] <= 0.005


def test_label_is_exactly_an_outcome_in_the_window(population) -> None:
    records, truth = population
    snaps = truth.snapshots
    out = records.outcomes
    merged = snaps[["family_id", "as_of", "label"]].merge(out, on="family_id", how="left")
    inside = (merged["outcome_date"] > merged["as_of"]) & (
        merged["outcome_date"] <= merged["as_of"] + pd.Timedelta(days=365)
    )
    expected = inside.groupby([merged["family_id"], merged["as_of"]]).any()
    got = snaps.set_index(["family_id", "as_of"])["label"].astype(bool)
    pd.testing.assert_series_equal(
        got.sort_index(), expected.reindex(got.index).sort_index(), check_names=False
    )


def test_snapshot_population_rule(population) -> None:
    records, truth = population
    snaps = truth.snapshots.merge(records.families[["family_id", "registered_on"]], on="family_id")
    assert (snaps["registered_on"] < snaps["as_of"]).all()
    # no outcome in the year before the as-of date
    merged = truth.snapshots.merge(records.outcomes, on="family_id")
    recent = (merged["outcome_date"] < merged["as_of"]) & (
        merged["outcome_date"] >= merged["as_of"] - pd.Timedelta(days=365)
    )
    assert not recent.any()


def test_p_true_is_calibrated_against_labels(population) -> None:
    snaps = population[1].snapshots
    bins = pd.qcut(snaps["p_true"], 10, labels=False, duplicates="drop")
    table = snaps.groupby(bins).agg(p=("p_true", "mean"), y=("label", "mean"), n=("label", "size"))
    se = np.sqrt(table["p"] * (1 - table["p"]) / table["n"])
    assert (np.abs(table["p"] - table["y"]) < 4 * se + 0.003).all(), table


def test_p_true_matches_monte_carlo_to_0_002() -> None:
    tables = lat.transition_tables(lat.Dynamics())
    exact = 1 - lat.no_outcome_probability(tables, 12)
    rng = np.random.default_rng(0)
    n_paths = 200_000
    for combo, state in [
        (0, 0),
        (1, 2),
        (3, 6),
        (
            5,
            lat.encode(
                np.array([2]), {**{k: np.array([0]) for k in lat.BINARY}, "C": np.array([1])}
            )[0],
        ),
    ]:
        combos = np.full(n_paths, combo)
        states = np.full(n_paths, state)
        hit = np.zeros(n_paths, dtype=bool)
        for _ in range(12):
            hazard = tables["hazard"][combo][states]
            hit |= rng.random(n_paths) < hazard
            states = lat.step(states, combos, tables, rng)
        se = np.sqrt(exact[combo, state] * (1 - exact[combo, state]) / n_paths)
        assert abs(hit.mean() - exact[combo, state]) < max(4 * se, 1e-4), (combo, state)
        assert 4 * se < 0.002 or exact[combo, state] > 0.05


def _without_ids(events: pd.DataFrame) -> pd.DataFrame:
    cols = ["family_id", "event_type", "event_date", "value", "member_id"]
    return events[cols].sort_values(cols[:3]).reset_index(drop=True)


def test_surveillance_bias_moves_only_surveilled_records(population, surveilled) -> None:
    (base, base_truth), (biased, biased_truth) = population, surveilled
    low = set(base_truth.families.loc[base_truth.families["low_income"], "family_id"])
    surveilled_sources = {"police", "social_protection"}
    for recs in (base, biased):
        recs.events.attrs.clear()

    def part(events: pd.DataFrame, sources: set[str], low_income: bool) -> pd.DataFrame:
        mask = events["source"].isin(sources) & (events["family_id"].isin(low) == low_income)
        return _without_ids(events[mask])

    other = set(base.events["source"].unique()) - surveilled_sources
    pd.testing.assert_frame_equal(part(base.events, other, True), part(biased.events, other, True))
    pd.testing.assert_frame_equal(
        part(base.events, other, False), part(biased.events, other, False)
    )
    pd.testing.assert_frame_equal(
        part(base.events, surveilled_sources, False), part(biased.events, surveilled_sources, False)
    )
    ratio = len(part(biased.events, surveilled_sources - set(), True)) / len(
        part(base.events, surveilled_sources, True)
    )
    assert 1.8 < ratio < 3.2
    pd.testing.assert_frame_equal(base.outcomes, biased.outcomes)
    pd.testing.assert_frame_equal(base_truth.snapshots, biased_truth.snapshots)


def test_label_bias_moves_only_low_income_labels(population, label_biased) -> None:
    (base, base_truth), (biased, biased_truth) = population, label_biased
    pd.testing.assert_frame_equal(base.events, biased.events)
    low = base_truth.families.set_index("family_id")["low_income"]
    # More registered outcomes take more low-income families out of later populations.
    both = base_truth.snapshots.merge(
        biased_truth.snapshots, on=["family_id", "as_of"], suffixes=("", "_b")
    )
    a = both[["family_id", "as_of", "p_true", "label", "distress"]]
    b = both[["p_true_b", "label_b", "distress_b"]].set_axis(
        ["p_true", "label", "distress"], axis=1
    )
    assert len(biased_truth.snapshots) < len(base_truth.snapshots)
    only_base = len(base_truth.snapshots) - len(both)
    dropped = base_truth.snapshots.merge(both[["family_id", "as_of"]], how="left", indicator=True)
    assert low.reindex(dropped.loc[dropped["_merge"] == "left_only", "family_id"]).all()
    assert only_base > 0
    np.testing.assert_array_equal(a["distress"], b["distress"])
    is_low = low.reindex(a["family_id"]).to_numpy()
    np.testing.assert_allclose(a.loc[~is_low, "p_true"], b.loc[~is_low, "p_true"])
    assert (b.loc[is_low, "p_true"] >= a.loc[is_low, "p_true"] - 1e-12).all()
    assert b.loc[is_low, "label"].mean() > 1.5 * a.loc[is_low, "label"].mean()
    np.testing.assert_array_equal(a.loc[~is_low, "label"], b.loc[~is_low, "label"])


def test_distress_covers_every_registered_label(population) -> None:
    snaps = population[1].snapshots
    assert (snaps["distress"] >= snaps["label"]).all()
    assert snaps["distress"].mean() > snaps["label"].mean()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_families": 0}, "--families must be at least 1; got 0"),
        ({"n_families": 5, "profile": "moscow"}, "unknown profile 'moscow'"),
        ({"n_families": 5, "start": "2020-01-15"}, "--start must be the first day of a month"),
        ({"n_families": 5, "label_bias": -1.0}, "--label-bias must be a positive number"),
    ],
)
def test_bad_arguments_are_named(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        SynthConfig(**kwargs).validate()


def test_cli_reports_bad_arguments_without_traceback(tmp_path) -> None:
    result = CliRunner().invoke(app, ["synth", "--families", "0", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "--families must be at least 1" in result.output
    assert not (tmp_path / "x").exists()


def test_zero_effect_leaves_the_world_bit_identical() -> None:
    plain = generate(500, seed=4)
    ids = plain[0].families["family_id"].head(40)
    treatments = pd.DataFrame({"family_id": ids, "start_date": "2021-04-01"})
    for effect in (0.0, 0.3):
        records, truth = generate(500, seed=4, outreach_effect=effect, treatments=treatments)
        same = effect == 0.0
        assert (len(truth.potential) == 0) == same
        if same:
            assert_frame_equal(records.events, plain[0].events)
            assert_frame_equal(records.outcomes, plain[0].outcomes)
            assert_frame_equal(truth.snapshots, plain[1].snapshots)
        else:
            # Outreach changes only what happens from its start on.
            early = records.events[records.events["event_date"] < "2021-04-01"]
            plain_early = plain[0].events[plain[0].events["event_date"] < "2021-04-01"]
            assert_frame_equal(early.reset_index(drop=True), plain_early.reset_index(drop=True))
            assert not records.events.equals(plain[0].events)
    assert "outreach" not in plain[1].manifest


def test_world_treats_only_forward() -> None:
    world = World(SynthConfig(300, seed=1))
    world.advance("2021-04-01")
    assert world.date == pd.Timestamp("2021-04-01")
    with pytest.raises(ValueError, match="before the next month"):
        world.treat(["F000001"], "2021-01-01")
    with pytest.raises(ValueError, match="unknown family"):
        world.treat(["nobody"], "2021-04-01")


def test_synth_command_applies_treatments(tmp_path) -> None:
    treated = tmp_path / "treated.csv"
    pd.DataFrame({"family_id": ["F000001", "F000002"], "start_date": ["2022-01-01"] * 2}).to_csv(
        treated, index=False
    )
    args = ["synth", "--families", "300", "--seed", "5", "--treatments", str(treated)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    potential = pd.read_parquet(tmp_path / "a" / "truth" / "potential_outcomes.parquet")
    assert set(potential["family_id"]) <= {"F000001", "F000002"}
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["outreach"]["families_treated"] == 2
    result = CliRunner().invoke(
        app, [*args, "--outreach-effect", "1.5", "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 2 and "--outreach-effect must be between 0 and 1" in result.output
