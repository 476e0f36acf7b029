"""Rationale attacks of issue 17 (5): fake text, huge text, NULs, database statements."""

from __future__ import annotations

import hashlib

import pytest

from risk.review import (
    MAX_DISPUTE_REASON_LENGTH,
    MAX_RATIONALE_LENGTH,
    InvalidDecision,
    ReviewError,
    ReviewQueue,
)
from risk.review._decisions import check_decision, check_dispute_reason, normalize_text
from tests.risk.review.conftest import pg_schema_url
from tests.risk.review.review_fakes import make_screening

RATIONALE = "Spoke with the mother; she asked for help with the school fees."
PASSWORD = "correct horse battery"


@pytest.mark.parametrize(
    "rationale",
    [
        "\u200b" * 20,
        "." * 20,
        "\u200b\u200c\u200d\u2060\ufeff" * 10 + "ok",
        "1234567890 1234567890 1234567890",
        "-- -- -- -- -- -- -- -- -- --",
        "a b c d e f g h i j k l m n o p",
        "\x00" * 40,
        "Help" + "\u200b" * 30,
    ],
    ids=["zero-width", "dots", "invisible", "digits", "dashes", "letters", "NUL", "one word"],
)
def test_text_without_words_is_not_a_rationale(rationale: str) -> None:
    with pytest.raises(InvalidDecision, match="flag 3: rationale must be"):
        check_decision(3, "referred", rationale, (), True)


@pytest.mark.parametrize("size", [MAX_RATIONALE_LENGTH + 1, 1_000_000, 10_000_000])
def test_huge_rationales_are_refused(size: int) -> None:
    text = ("Visited the family at home. " * (size // 28 + 1))[:size]
    with pytest.raises(InvalidDecision, match=f"at most {MAX_RATIONALE_LENGTH} characters"):
        check_decision(3, "referred", text, (), True)


def test_the_longest_rationale_is_accepted() -> None:
    text = ("Visited the family at home. " * 200)[:MAX_RATIONALE_LENGTH]
    assert len(check_decision(3, "referred", text, (), True)[0]) <= MAX_RATIONALE_LENGTH


def test_russian_rationales_count_their_words() -> None:
    text = "Поговорила с матерью, она просит помочь со школой."
    assert check_decision(3, "referred", text, (), True)[0] == text


def test_rationale_and_reason_are_normalised() -> None:
    messy = "  Spoke\u200b with the\u00a0mother;\tshe asked\x00 for help\r\n\r\n\r\nwith fees.  "
    clean = "Spoke with the mother; she asked for help\n\nwith fees."
    assert normalize_text(messy) == clean
    assert check_decision(3, "referred", messy, (), True)[0] == clean
    assert check_dispute_reason("e1", " wrong\u200b family \x07") == "wrong family"
    with pytest.raises(InvalidDecision, match=f"at most {MAX_DISPUTE_REASON_LENGTH}"):
        check_dispute_reason("e1", "wrong family " * 1000)


def _queue_with_opened_item(url: str) -> tuple[ReviewQueue, int, str]:
    q = ReviewQueue(url)
    q.add_user("anna", PASSWORD, "specialist", ["north"])
    q.enqueue(make_screening(6, 6), "run-1")
    items = q.items(districts=["north"], status="open")
    flag, family = int(items["flag_id"].iloc[0]), str(items["family_id"].iloc[0])
    q.item(flag, "anna")
    return q, flag, family


def test_the_normalised_text_is_stored_and_audited(store_url: str) -> None:
    q, flag, _ = _queue_with_opened_item(store_url)
    messy = "\u200b" + RATIONALE.replace(" ", "\u200b  ") + "\x00"
    decided = q.record_decision(flag, "anna", "referred", messy, agrees_with_model=True)
    assert decided.rationale == RATIONALE
    assert q.decisions()["rationale"].tolist() == [RATIONALE]
    log = q.audit_log()
    # The decision's own row (a referral also opens a follow-up, audited after it).
    details = log[log["action"] == "decision"].iloc[-1]["details"]
    assert details["rationale_sha256"] == hashlib.sha256(RATIONALE.encode()).hexdigest()
    assert q.verify_audit_log().ok
    q.close()


@pytest.mark.postgres
def test_a_nul_on_postgresql_is_refused_without_showing_sql() -> None:
    with pg_schema_url() as url:
        q, flag, family = _queue_with_opened_item(url)
        # A NUL in a rationale is removed by normalising; one in an id reaches the database,
        # which refuses it: the message names the value's problem, never the statement.
        with pytest.raises(ReviewError) as caught:
            q.dispute("e\x001", "anna", "wrong family, same surname", family_id=family)
        message = str(caught.value)
        assert "NUL" in message
        for sql in ("INSERT", "SELECT", "[SQL", "parameters", "disputed_records"):
            assert sql not in message
        decided = q.record_decision(
            flag, "anna", "referred", RATIONALE + "\x00", agrees_with_model=True
        )
        assert decided.rationale == RATIONALE
        assert q.verify_audit_log().ok
        q.close()
