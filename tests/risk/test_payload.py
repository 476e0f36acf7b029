"""The flag payload contract: one typed structure, checked at enqueue before anything is written."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import risk
from risk import FlagPayload, PayloadError, example_payload, validate_payload
from risk._payload import _FIELDS
from risk.review import ReviewQueue
from tests.risk.review.review_fakes import FakeScreening, make_screening


def test_the_checks_and_the_types_name_the_same_keys() -> None:
    for typed, fields in _FIELDS.items():
        assert tuple(fields) == tuple(typed.__annotations__), typed.__name__
    assert risk.FlagPayload is FlagPayload
    assert tuple(FlagPayload.__annotations__)[-2:] == ("timeline", "missing_sources")


def test_a_valid_payload_is_returned_unchanged() -> None:
    p = example_payload("F9")
    before = copy.deepcopy(p)
    assert validate_payload(p) is p
    assert p == before
    json.dumps(p, allow_nan=False)


@pytest.mark.parametrize("key", list(FlagPayload.__annotations__))
def test_every_missing_key_is_named(key: str) -> None:
    p: dict[str, Any] = dict(example_payload("F2"))
    del p[key]
    with pytest.raises(PayloadError, match=rf"payload of family F2 lacks the key {key}$"):
        validate_payload(p, family_id="F2")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(score="0.4"), r"score must be a finite number; got '0.4'"),
        (lambda p: p.update(score=float("inf")), r"score must be a finite number; got inf"),
        (lambda p: p.update(capacity=True), r"capacity must be an integer; got True"),
        (lambda p: p["composition"].update(low_income=1), r"composition.low_income must be true"),
        (lambda p: p["composition"].pop("settlement"), r"lacks the key composition.settlement"),
        (lambda p: p.update(needs="material"), r"needs must be a list; got 'material'"),
        (lambda p: p.update(coverage={"police": "no"}), r"coverage.police must be true or false"),
        (lambda p: p.update(by_domain=[0.1]), r"by_domain must be an object; got \[0.1\]"),
        (lambda p: p.update(explanation=[]), r"explanation is not a key of FlagPayload"),
        (
            lambda p: p["contributions"].append(
                {
                    "feature": "x",
                    "value": "3",
                    "contribution": 0.1,
                    "domain": "safety",
                    "unit": "count",
                    "description_ru": "х",
                    "description_en": "x",
                }
            ),  # fmt: skip
            r"contributions\[0\].value must be a finite number; got '3'",
        ),
        (
            lambda p: p["timeline"].append({"event_id": "e1", "date": "2025-01-01"}),
            r"lacks the key timeline\[0\].source",
        ),
        (lambda p: p.update(family_id="F3"), r"family_id must be 'F1'; got 'F3'"),
    ],
)
def test_wrong_values_are_named(change: Any, message: str) -> None:
    p: Any = example_payload("F1")
    change(p)
    with pytest.raises(PayloadError, match=message) as caught:
        validate_payload(p, family_id="F1")
    assert "payload of family F1" in str(caught.value)
    assert isinstance(caught.value, risk.InputError)


def test_a_timeline_value_may_be_missing() -> None:
    p = example_payload()
    p["timeline"] = [
        {"event_id": "e1", "date": "2025-01-01", "source": "education",
         "event_type": "school_absence", "value": None, "description_ru": "Пропуски",
         "description_en": "Absence"}
    ]  # fmt: skip
    assert validate_payload(p) is p


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda p: p.pop("lookback_days"), " lacks the key lookback_days"),
        (lambda p: p["composition"].update(n_children="2"), ": composition.n_children must be an"),
    ],
)
def test_enqueue_refuses_a_malformed_payload_and_writes_nothing(
    tmp_path: Any, break_it: Any, message: str
) -> None:
    good = make_screening(12, 5)
    victim = good.scores["family_id"].iloc[3]
    payloads = copy.deepcopy(good.payloads)
    break_it(payloads[victim])
    bad = FakeScreening(scores=good.scores, payloads=payloads)
    with ReviewQueue(f"sqlite:///{tmp_path / 'review.db'}") as q:
        with pytest.raises(PayloadError, match=rf"run r1: payload of family {victim}{message}"):
            q.enqueue(bad, "r1")
        assert q.runs().empty
        assert q.count_items() == 0
        assert "enqueue_run" not in set(q.audit_log()["action"])
        # The same run with valid payloads goes in whole.
        assert q.enqueue(good, "r1").n_flags == 5
