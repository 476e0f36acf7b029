"""The review queue's pure parts: hashing, the chain check, rules, run preparation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import Records
from risk.review import (
    ACTIONS,
    DECISIONS,
    InvalidDecision,
    LoginPolicy,
    ReviewError,
    User,
    can_access,
    exclude_disputed,
    row_hash,
    verify_chain,
)
from risk.review._audit import GENESIS_HASH, canonical_json
from risk.review._decisions import (
    MAX_RATIONALE_LENGTH,
    MIN_RATIONALE_LENGTH,
    MIN_RATIONALE_LETTERS,
    MIN_RATIONALE_WORDS,
    check_decision,
    normalize_text,
)
from risk.review._screening import prepare_run
from risk.review._users import hash_password, verify_password
from tests.risk.review.review_fakes import make_screening

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
entries = st.lists(
    st.tuples(
        texts,
        st.sampled_from(ACTIONS),
        texts,
        st.dictionaries(texts, st.one_of(st.integers(), texts, st.booleans()), max_size=3),
    ),
    min_size=2,
    max_size=12,
)


def _chain(items: list[tuple[str, str, str, dict[str, object]]]) -> list[dict[str, object]]:
    rows, prev = [], GENESIS_HASH
    for seq, (actor, action, subject, details) in enumerate(items, start=1):
        at = f"2025-01-01T00:00:{seq:02d}+00:00"
        h = row_hash(seq, at, actor, action, subject, details, prev)
        rows.append(
            dict(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                details_json=canonical_json(details),
                prev_hash=prev,
                hash=h,
            )
        )
        prev = h
    return rows


def _head(rows: list[dict[str, object]]) -> tuple[int, str]:
    return int(str(rows[-1]["seq"])), str(rows[-1]["hash"])


@given(entries)
def test_an_untouched_chain_verifies(items: list) -> None:
    rows = _chain(items)
    result = verify_chain(rows, _head(rows))
    assert result.ok and result.n_rows == len(rows)


@given(entries, st.data())
def test_editing_any_field_of_any_row_is_caught_at_that_row(
    items: list, data: st.DataObject
) -> None:
    rows = _chain(items)
    head = _head(rows)
    k = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(
        st.sampled_from(["at", "actor", "action", "subject", "details_json", "hash"])
    )
    rows[k] = dict(rows[k], **{column: str(rows[k][column]) + "x"})
    result = verify_chain(rows, head)
    assert not result.ok
    # Editing a row's own hash is seen at that row (or, for the last row, at the head).
    assert result.first_broken_seq == k + 1


@given(entries, st.data())
def test_deleting_or_reordering_rows_is_caught(items: list, data: st.DataObject) -> None:
    rows = _chain(items)
    head = _head(rows)
    k = data.draw(st.integers(0, len(rows) - 2))
    deleted = rows[:k] + rows[k + 1 :]
    result = verify_chain(deleted, head)
    # The first row still there that does not fit is the one after the gap.
    assert result.first_broken_seq == k + 2
    assert result.reason == f"gap in seq: expected {k + 1}, found {k + 2}"
    # Reordering = the stored seq numbers of two rows swapped; read back in seq order.
    swapped = [dict(r) for r in rows]
    swapped[k], swapped[k + 1] = (
        dict(rows[k + 1], seq=rows[k]["seq"]),
        dict(rows[k], seq=rows[k + 1]["seq"]),
    )
    assert verify_chain(swapped, head).first_broken_seq == k + 1
    assert "missing" in (verify_chain(rows[:-1], head).reason or "")


@given(st.sets(st.sampled_from(["north", "south", "east", "west"])), st.text(max_size=6))
def test_access_is_exactly_the_granted_districts(districts: set[str], district: str) -> None:
    for role in ("specialist", "supervisor", "admin"):
        assert can_access(User("u", role, frozenset(districts)), district) == (
            district in districts
        )


@given(st.integers(0, 200), st.integers(0, 200))
def test_login_delay_is_monotone_and_capped(a: int, b: int) -> None:
    policy = LoginPolicy()
    lo, hi = sorted((a, b))
    assert policy.delay(lo) <= policy.delay(hi)
    assert policy.delay(hi).total_seconds() <= policy.max_delay_s


_WORDS = st.lists(
    st.sampled_from(
        ["семья", "отказалась", "от", "помощи", "the", "family", "was", "reached", "1"]
    ),
    max_size=8,
).map(" ".join)


@given(
    st.one_of(st.text(max_size=40), _WORDS),
    st.sampled_from([*DECISIONS, "close", "auto"]),
    st.lists(st.text(min_size=1, max_size=5).filter(lambda s: bool(normalize_text(s))), max_size=3),
    st.one_of(st.booleans(), st.none(), st.integers()),
)
def test_only_wellformed_decisions_pass(
    rationale: str, decision: str, services: list[str], agrees: object
) -> None:
    # The rule of risk.review._decisions, restated: normalised length, then real words.
    text = normalize_text(rationale)
    words = re.findall(r"[^\W\d_]{2,}", text)
    ok = (
        decision in DECISIONS
        and MIN_RATIONALE_LENGTH <= len(text) <= MAX_RATIONALE_LENGTH
        and len(words) >= MIN_RATIONALE_WORDS
        and sum(map(len, words)) >= MIN_RATIONALE_LETTERS
        and bool(services) == (decision == "support_offered")
        and isinstance(agrees, bool)
    )
    try:
        check_decision(3, decision, rationale, services, agrees)
    except InvalidDecision as exc:
        assert not ok and str(exc).startswith("flag 3: ")
    else:
        assert ok


@settings(max_examples=5, deadline=None)
@given(st.text(min_size=12, max_size=30))
def test_password_hash_roundtrip(password: str) -> None:
    h = hash_password(password)
    assert password not in h
    assert verify_password(password, h)
    assert not verify_password(password + "!", h)
    assert hash_password(password) != h  # salted


def test_malformed_password_hash_never_matches() -> None:
    assert not verify_password("x", "md5$abc")
    assert not verify_password("x", "bcrypt$1$2$3$AAAA$AAAA")


@given(st.sets(st.integers(0, 19)), st.sets(st.integers(0, 30)))
def test_disputed_records_are_excluded_and_nothing_else(
    events_kept: set[int], disputed: set[int]
) -> None:
    recs = Records.empty()
    ids = [f"e{i}" for i in sorted(events_kept)]
    events = pd.DataFrame(
        {c: pd.Series([None] * len(ids), dtype=recs.events[c].dtype) for c in recs.events.columns}
    )
    events["event_id"] = pd.Series(ids, dtype="str")
    out = exclude_disputed(recs.replace(events=events), {f"e{i}" for i in disputed})
    assert out.events["event_id"].tolist() == [f"e{i}" for i in sorted(events_kept - disputed)]


def test_prepare_run_keeps_only_flagged_rows() -> None:
    s = make_screening(10, 4)
    run = prepare_run(s, "r1")
    assert len(run.flags) == 4 and run.n_scored == 10
    assert {f["family_id"] for f in run.flags} == set(s.scores["family_id"][:4])
    assert run.as_of == "2025-06-30" and run.model_version == "family_distress@3"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns=["tier"]), "screening.scores lacks columns tier"),
        (lambda df: pd.concat([df, df.iloc[:1]]), "1 families scored twice"),
        (
            lambda df: df.assign(model_version=["a", "b"] * (len(df) // 2)),
            "scores.model_version must hold one value; got 2",
        ),
    ],
)
def test_prepare_run_refuses_malformed_screenings(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    s = make_screening(10, 4)
    with pytest.raises(ReviewError, match=f"run r1: {message}"):
        prepare_run(type(s)(scores=change(s.scores), payloads=s.payloads), "r1")
    with pytest.raises(ReviewError, match="run_id must be a non-blank string"):
        prepare_run(s, " ")


def test_payloads_must_be_json() -> None:
    s = make_screening(3, 1)
    fid = s.scores["family_id"].iloc[0]
    bad = type(s)(scores=s.scores, payloads={fid: {"x": float("nan")}})
    with pytest.raises(ReviewError, match=f"payload of family {fid} is not JSON-serialisable"):
        prepare_run(bad, "r1")
