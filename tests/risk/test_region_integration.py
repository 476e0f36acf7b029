"""Region packs through the whole system: screening, services, capacity, the CLI and the app.

The issue's reproduction: the committed sample with its districts renamed was scored and every
flagged family got an empty list of services, with no warning. Now a pack that has those
districts gives them their services, and a pack that lacks them refuses the records at once.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from family_risk.cli import app
from features import Records, load_records
from risk import Capacity, ModelError, Screener, ScreeningError, ServiceCatalog, region_vocabulary
from risk.regions import RegionError, RegionPack, load_region
from risk.review import ReviewQueue
from tests.paths import SAMPLE
from tests.risk.small_model import train_small_model

TRAIN_DATES = ["2022-01-01", "2022-07-01", "2023-01-01", "2023-07-01"]
AS_OF = "2024-07-01"
# The model definition's capacity differs from every pack's, so a run shows which one it used.
MODEL_CAPACITY = Capacity(default=3, per_district={}, min_score=0.05)
PACKS = Path(__file__).resolve().parents[2] / "risk" / "regions" / "packs"


def renamed(code: str) -> str:
    return f"ilmen_{code}"


def write_renamed_pack(target: Path) -> Path:
    """Copy the Novgorod pack with every district code (and the region's) renamed."""
    shutil.copytree(PACKS / "novgorod", target)
    novgorod = load_region("novgorod")
    toml = (target / "region.toml").read_text("utf-8")
    toml = toml.replace('code = "novgorod"', 'code = "ilmen"', 1)
    for d in novgorod.districts:
        toml = toml.replace(f'code = "{d.code}"', f'code = "{renamed(d.code)}"')
        toml = toml.replace(f'name_en = "{d.name_en}"', f'name_en = "Ilmen {d.name_en}"')
    (target / "region.toml").write_text(toml, "utf-8")
    with (target / "services.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        codes = row["districts"].split(";")
        row["districts"] = ";".join(c if c == "*" else renamed(c) for c in codes)
    with (target / "services.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


def rename_districts(records: Records) -> Records:
    families = records.families.assign(district=records.families["district"].map(renamed))
    return dataclasses.replace(records, families=families)


@pytest.fixture(scope="module")
def records() -> Records:
    return load_records(SAMPLE)


@pytest.fixture(scope="module")
def model(records):
    truth = pd.read_parquet(SAMPLE / "truth" / "snapshots.parquet")
    return train_small_model(records, truth, TRAIN_DATES, MODEL_CAPACITY)


@pytest.fixture(scope="module")
def novgorod() -> RegionPack:
    return load_region("novgorod")


@pytest.fixture(scope="module")
def ilmen_path(tmp_path_factory) -> Path:
    return write_renamed_pack(tmp_path_factory.mktemp("packs") / "ilmen")


@pytest.fixture(scope="module")
def ilmen(ilmen_path: Path) -> RegionPack:
    return load_region(ilmen_path)


@pytest.fixture(scope="module")
def screening(model, records, novgorod):
    return Screener(model, region=novgorod).screen(records, AS_OF)


def assert_services_from_own_district(screening, pack: RegionPack) -> None:
    available = pack.services.set_index("service_id")["districts"]
    scores = screening.scores.set_index("family_id")
    assert screening.flagged_ids
    for family_id in screening.flagged_ids:
        district = scores.at[family_id, "district"]
        offered = screening.payload(family_id)["services"]
        assert offered, family_id
        assert all(district in available[s["service_id"]] for s in offered), family_id


def test_the_sample_gets_services_from_its_own_district(screening, novgorod) -> None:
    assert_services_from_own_district(screening, novgorod)
    # The pack's capacity, not the model definition's.
    summary = screening.summary().set_index("district")
    assert summary.at["velikiy_novgorod", "capacity"] == 80
    assert summary.at["shimsky", "capacity"] == 25


def test_renamed_districts_score_and_match_with_a_pack_that_has_them(
    model, records, screening, ilmen
) -> None:
    again = Screener(model, region=ilmen).screen(rename_districts(records), AS_OF)
    assert_services_from_own_district(again, ilmen)
    assert again.flagged_ids == screening.flagged_ids
    for family_id in screening.flagged_ids:
        before = [s["service_id"] for s in screening.payload(family_id)["services"]]
        after = again.payload(family_id)["services"]
        assert [s["service_id"] for s in after] == before
    districts = set(again.scores["district"])
    assert districts <= set(ilmen.district_codes) and len(districts) == 14


def test_a_district_the_pack_lacks_is_refused_at_load_time(model, records, novgorod) -> None:
    counts = rename_districts(records).families["district"].value_counts()
    top, n = counts.index[0], int(counts.iloc[0])
    with pytest.raises(RegionError) as caught:
        Screener(model, region=novgorod).screen(rename_districts(records), AS_OF)
    message = str(caught.value)
    assert message.startswith(
        f"records name 14 districts the region pack 'novgorod' lacks: '{top}' ({n} families), "
    )
    assert message.endswith(", … 4 more")
    # Without a region, the catalogue given names the districts it knows.
    screener = Screener(model, catalog=ServiceCatalog.from_region(novgorod))
    one = dataclasses.replace(
        records,
        families=records.families.assign(
            district=np.where(records.families.index == 0, "atlantis", records.families["district"])
        ),
    )
    with pytest.raises(
        RegionError,
        match=r"^records name 1 district the services catalogue's regions \(novgorod\) lack: "
        r"'atlantis' \(1 family\)$",
    ):
        screener.screen(one, AS_OF)


def test_as_of_after_the_extraction_names_both_dates(model, records) -> None:
    screener = Screener(model)
    with pytest.raises(ScreeningError) as caught:
        screener.screen(records, "2030-01-01")
    assert str(caught.value) == (
        "as_of 2030-01-01 is after the records' extraction date 2025-12-31: nothing recorded "
        "after the extraction can be screened (the latest as-of date is 2026-01-01)"
    )
    # The day after the extraction reads every extracted record: still allowed.
    assert len(screener.screen(records, "2026-01-01").scores) > 0


def test_risk_score_refuses_unknown_districts_and_uses_the_packs_capacity(
    model, records, ilmen_path, tmp_path
) -> None:
    data = tmp_path / "renamed"
    rename_districts(records).to_parquet(data)
    model.save(tmp_path / "model")
    store = f"sqlite:///{tmp_path / 'review.db'}"
    args = ["score", "--data", str(data), "--as-of", AS_OF, "--model", str(tmp_path / "model"),
            "--store", store]  # fmt: skip
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2, refused.output
    counts = rename_districts(records).families["district"].value_counts()
    assert (
        f"records name 14 districts the region pack 'novgorod' lacks: "
        f"'{counts.index[0]}' ({counts.iloc[0]} families)" in refused.output
    )
    with ReviewQueue(store) as queue:
        assert len(queue.runs()) == 0
    scored = CliRunner().invoke(app, [*args, "--region", str(ilmen_path), "--no-monitor"])
    assert scored.exit_code == 0, scored.output
    assert "capacity: region pack 'ilmen': 25 per district (ilmen_velikiy_novgorod 80)" in (
        scored.output
    )
    with ReviewQueue(store) as queue:
        assert len(queue.items()) > 0


def test_a_service_for_an_unknown_district_is_refused(ilmen_path, tmp_path) -> None:
    broken = shutil.copytree(ilmen_path, tmp_path / "broken")
    text = (broken / "services.csv").read_text("utf-8").replace("ilmen_shimsky", "atlantis", 1)
    (broken / "services.csv").write_text(text, "utf-8")
    result = CliRunner().invoke(
        app, ["score", "--data", str(SAMPLE), "--as-of", AS_OF, "--region", str(broken)]
    )
    assert result.exit_code == 2
    assert re.search(r"services\.csv: line \d+: .*'atlantis'", result.output), result.output


def test_the_app_shows_district_names_from_the_pack(model, records, ilmen, tmp_path) -> None:
    import gradio as gr

    from review_app import build_app, demo_users
    from review_app._app import _LanguageUI
    from review_app._catalog import DistrictServices
    from review_app._i18n import use_region
    from review_app._service import ReviewService

    again = Screener(model, region=ilmen).screen(rename_districts(records), AS_OF)
    queue = ReviewQueue(f"sqlite:///{tmp_path / 'review.db'}")
    try:
        queue.enqueue(again, "run-ilmen")
        users = demo_users(queue, sorted(ilmen.district_codes))
        supervisor = next(n for n, _, role, _ in users if role == "supervisor")
        build_app(queue, lang="en", region=ilmen)
        service = ReviewService(queue)
        with gr.Blocks():
            ui = _LanguageUI(
                "en", service, DistrictServices(ServiceCatalog.from_region(ilmen)), None
            )
        request = SimpleNamespace(username=supervisor, session_hash="s1")
        header = ui.on_load(request)[0]  # type: ignore[arg-type]
        assert "Ilmen Veliky Novgorod" in header and "ilmen_velikiy_novgorod" not in header
        _, table, _ = ui.show_queue("", "", "", 1, request)  # type: ignore[arg-type]
        column = table["headers"].index("District")
        shown = {row[column] for row in table["data"]}
        assert shown and all(name.startswith("Ilmen ") for name in shown)
        flag_id = int(table["data"][0][table["headers"].index("Flag")])
        card = ui.open_card(flag_id, request)  # type: ignore[arg-type]
        assert any("Ilmen " in str(part) for part in card)
    finally:
        queue.close()
        use_region(load_region())  # other tests read the default region's names


def test_chelyabinsk_end_to_end(tmp_path) -> None:
    data = tmp_path / "chelyabinsk"
    made = CliRunner().invoke(
        app, ["synth", "--region", "chelyabinsk", "--families", "1500", "--out", str(data)]
    )
    assert made.exit_code == 0, made.output
    pack = load_region("chelyabinsk")
    vocabulary = region_vocabulary(pack)  # the pack's own record types are in the records
    records = load_records(data, vocabulary=vocabulary)
    assert set(records.families["district"]) <= set(pack.district_codes)
    truth = pd.read_parquet(data / "truth" / "snapshots.parquet")
    model = train_small_model(records, truth, TRAIN_DATES, MODEL_CAPACITY, vocabulary=vocabulary)
    model.save(tmp_path / "model")
    store = f"sqlite:///{tmp_path / 'review.db'}"
    result = CliRunner().invoke(
        app,
        ["score", "--region", "chelyabinsk", "--data", str(data), "--as-of", AS_OF,
         "--model", str(tmp_path / "model"), "--store", store, "--no-monitor"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "capacity: region pack 'chelyabinsk': 25 per district (" in result.output
    screening = Screener(model, region=pack).screen(records, AS_OF, vocabulary=vocabulary)
    assert_services_from_own_district(screening, pack)
    with ReviewQueue(store) as queue:
        assert len(queue.items()) == len(screening.flagged_ids)


def test_the_mlflow_model_takes_floats_and_nullable_integers(model, screening, tmp_path) -> None:
    import mlflow.pyfunc

    from risk._pyfunc import save_risk_model

    X = screening.features.loc[:, list(model.features)].head(50)
    expected = model.predict_proba(X)
    loaded = mlflow.pyfunc.load_model(str(save_risk_model(model, tmp_path / "pyfunc")))
    whole = [f for f in model.features if X[f].dtype.kind == "i"]
    assert whole
    as_floats = X.astype("float64")
    as_nullable = X.astype({f: "Int64" for f in whole}).astype(
        {f: "float32" for f in model.features if f not in whole and (X[f] % 1 == 0).all()}
    )
    as_int32 = X.astype({f: "int32" for f in whole})
    for frame in (as_floats, as_nullable, as_int32):
        got = loaded.predict(frame)
        np.testing.assert_allclose(got["score"].to_numpy(), expected, rtol=1e-12)
    holed = as_nullable.copy()
    holed.loc[holed.index[2], whole[0]] = pd.NA
    assert np.isfinite(loaded.predict(holed)["score"].to_numpy()).all()
    fraction = as_floats.copy()
    fraction.loc[fraction.index[3], whole[0]] = 1.5
    row = fraction.index[3]
    with pytest.raises(Exception, match=rf"feature '{whole[0]}' counts in whole numbers, but "
                       rf"row {re.escape(repr(row))} holds 1\.5"):  # fmt: skip
        loaded.predict(fraction)
    text = as_floats.astype({whole[0]: object})
    text.loc[text.index[0], whole[0]] = "three"
    with pytest.raises(ModelError, match=rf"feature '{whole[0]}' must hold numbers, but row "):
        model.predict_proba(text)
