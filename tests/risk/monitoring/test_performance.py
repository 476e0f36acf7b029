"""Expected precision and recall at capacity: intervals that hold, and realised values."""

import numpy as np
import pandas as pd
import pytest

from risk.monitoring import (
    EXPECTED_COLUMNS,
    REALISED_COLUMNS,
    expected_performance,
    realised_performance,
)
from tests.risk.monitoring.conftest import AS_OF

DRAWS = 2000


def test_expected_values_are_the_scores_of_the_flags(screening):
    scores = screening.scores
    table = expected_performance(scores)
    assert list(table.columns) == list(EXPECTED_COLUMNS)
    assert table["district"].iloc[-1] == "total"
    assert table["district"].iloc[:-1].tolist() == sorted(scores["district"].unique())
    total = table.iloc[-1]
    flagged = scores.loc[scores["flagged"], "score"]
    assert total["expected_precision"] == pytest.approx(flagged.mean())
    assert total["expected_recall"] == pytest.approx(flagged.sum() / scores["score"].sum())
    assert total["flagged"] == len(flagged) and total["families"] == len(scores)
    assert (table["precision_low"] <= table["expected_precision"]).all()
    assert (table["expected_precision"] <= table["precision_high"]).all()


@pytest.mark.parametrize("what", ["precision", "recall"])
def test_the_95_percent_interval_covers_95_percent_of_simulated_runs(screening, what):
    # Labels drawn from the calibrated scores: the world the scores describe.
    scores = screening.scores
    table = expected_performance(scores).set_index("district")
    p = scores["score"].to_numpy()
    flagged = scores["flagged"].to_numpy()
    districts = scores["district"].to_numpy()
    y = np.random.default_rng(0).random((DRAWS, len(p))) < p
    for district in ("velikiy_novgorod", "total"):
        m = np.ones(len(p), bool) if district == "total" else districts == district
        hits = (y[:, m & flagged]).sum(axis=1)
        if what == "precision":
            realised = hits / (m & flagged).sum()
        else:
            realised = hits / np.maximum(y[:, m].sum(axis=1), 1)
        low, high = table.loc[district, [f"{what}_low", f"{what}_high"]]
        coverage = np.mean((realised >= low) & (realised <= high))
        assert 0.93 <= coverage <= 0.975, (district, coverage)


def test_expected_precision_holds_on_matured_synthetic_labels(screening, truth, records):
    # The sample's truth holds the outcome a year after the screening date: matured labels.
    labels = truth.loc[truth["as_of"] == pd.Timestamp(AS_OF)].set_index("family_id")["label"]
    settlement = records.families.set_index("family_id")["settlement"]
    table = realised_performance(screening.scores, labels, groups={"settlement": settlement})
    assert set(table.query("by == 'settlement'")["group"]) == {"rural", "urban", "total"}
    assert list(table.columns[-len(REALISED_COLUMNS) :]) == list(REALISED_COLUMNS)
    total = table.query("by == 'district' and group == 'total'").iloc[0]
    assert total["precision_low"] <= total["realised_precision"] <= total["precision_high"]
    assert total["precision_within"]
    flagged = screening.scores["flagged"].to_numpy()
    y = labels.reindex(screening.scores["family_id"]).to_numpy()
    assert total["realised_precision"] == pytest.approx(y[flagged].mean())
    assert total["realised_recall"] == pytest.approx(y[flagged].sum() / y.sum())
    assert 0 <= total["ece"] < 0.05


def test_labels_must_cover_every_scored_family(screening):
    with pytest.raises(ValueError, match="scored families have no label"):
        realised_performance(screening.scores, pd.Series({"x": 1}))


def test_a_district_without_flags_has_no_precision():
    s = pd.DataFrame({"district": ["a", "b"], "score": [0.3, 0.2], "flagged": [True, False]})
    table = expected_performance(s).set_index("district")
    assert np.isnan(table.loc["b", "expected_precision"])
    assert table.loc["b", "expected_recall"] == 0.0
