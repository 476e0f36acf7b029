"""Each figure is built, has the expected axes and lines, and saves to PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk._plots import audit_plot, pr_curve, reliability_diagram, score_histogram
from risk.fairness import audit


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    p = rng.beta(1.0, 6.0, 800)
    y = (rng.random(800) < p).astype(int)
    return y, p


@pytest.fixture(scope="module")
def table(scored: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    y, p = scored
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "score": p,
            "label": y,
            "district": rng.choice(["d1", "d2", "d3"], y.size),
            "low_income": rng.random(y.size) < 0.2,
        }
    )
    return audit(frame, score="score", label="label", groups=["district", "low_income"],
                 top_k=40, n_boot=20)  # fmt: skip


def _saves(fig: object, path: Path) -> None:
    fig.savefig(path)  # type: ignore[attr-defined]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_reliability_diagram(scored: tuple, tmp_path: Path, lang: str) -> None:
    y, p = scored
    fig = reliability_diagram(y, {"before": np.clip(p * 1.5, 0, 1), "after": p}, lang=lang)  # type: ignore[arg-type]
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # diagonal + two curves
    assert len(ax.lines[1].get_xdata()) == 10
    assert "ECE" in ax.get_legend().get_texts()[1].get_text()
    assert ("Reliability" in ax.get_title()) == (lang == "en")
    _saves(fig, tmp_path / "reliability.png")


def test_pr_curve(scored: tuple, tmp_path: Path) -> None:
    y, p = scored
    fig = pr_curve(y, {"model": p, "noise": np.random.default_rng(0).random(y.size)})
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # two curves + prevalence
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(y.mean())
    _saves(fig, tmp_path / "pr.png")


def test_score_histogram(scored: tuple, tmp_path: Path) -> None:
    y, p = scored
    split = score_histogram(p, labels=y, lang="ru")
    assert len(split.axes) == 1 and len(split.axes[0].containers) == 2
    assert split.axes[0].get_xlabel().startswith("Оценка")
    single = score_histogram(p)
    assert len(single.axes[0].containers) == 1
    _saves(split, tmp_path / "hist.png")


def test_audit_plot(table: pd.DataFrame, tmp_path: Path) -> None:
    fig = audit_plot(table)
    assert len(fig.axes) == 2  # one panel per attribute
    district = fig.axes[0]
    assert len(district.containers) == 4  # one bar set per metric
    assert len(district.containers[0]) == 3  # one bar per district
    labels = [t.get_text() for t in district.get_yticklabels()]
    assert any("ref" in label for label in labels) and all("n=" in label for label in labels)
    assert len(audit_plot(table, metrics=("fpr",), lang="ru").axes[1].containers) == 1
    _saves(fig, tmp_path / "audit.png")


def test_bad_input(scored: tuple, table: pd.DataFrame) -> None:
    y, p = scored
    with pytest.raises(ValueError, match="at least one"):
        reliability_diagram(y, {})
    with pytest.raises(ValueError, match="shape"):
        pr_curve(y, {"short": p[:10]})
    with pytest.raises(ValueError, match="lang"):
        score_histogram(p, lang="de")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing columns"):
        audit_plot(table.drop(columns="ppv_ratio"))
