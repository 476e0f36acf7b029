"""A decision without looking (issue 17, 3) and services outside the district (issue 17, 1).

With ``session`` (as the app always calls it), ``ReviewQueue.record_decision`` needs the item's
current version and, in the store, this user's view of that version in that session; with
``catalog``, the services must be of the family's district.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import pandas as pd
import pytest

from risk import CatalogError, ServiceCatalog
from risk.review import Decision, DecisionConflict, InvalidDecision, ReviewQueue
from risk.review._decisions import check_services_available
from risk.review._views import session_ref
from tests.risk.review.review_fakes import make_screening

RATIONALE = "Spoke with the mother; she asked for help with the school fees."
PASSWORD = "correct horse battery"


class Catalog:
    """A services catalogue of two districts (what the store reads of a risk.ServiceCatalog)."""

    services = {"north": ["nrt-001", "nrt-002"], "south": ["sth-001"]}

    def for_district(self, district: str) -> pd.DataFrame:
        if district not in self.services:
            raise CatalogError(f"unknown district {district!r}")
        return pd.DataFrame({"service_id": self.services[district]})


CATALOG = cast("ServiceCatalog", Catalog())


def _queue(url: str) -> tuple[ReviewQueue, int]:
    q = ReviewQueue(url)
    q.add_user("anna", PASSWORD, "specialist", ["north"])
    q.add_user("alla", PASSWORD, "specialist", ["north"])
    q.enqueue(make_screening(6, 6), "run-1")
    flag = int(q.items(districts=["north"], status="open")["flag_id"].iloc[0])
    return q, flag


def _decide(
    q: ReviewQueue, flag: int, session: str, version: int | None, user: str = "anna"
) -> Decision:
    return q.record_decision(
        flag,
        user,
        "referred",
        RATIONALE,
        agrees_with_model=True,
        expected_version=version,
        session=session,
    )


def _nothing_decided(q: ReviewQueue, flag: int) -> None:
    assert q.decisions(flag_id=flag).empty
    assert q.items(status="open")["flag_id"].isin([flag]).any()
    assert "decision" not in set(q.audit_log()["action"])


def test_a_session_that_never_opened_the_card_cannot_decide(store_url: str) -> None:
    q, flag = _queue(store_url)
    with pytest.raises(InvalidDecision, match=f"flag {flag}: open the family card before"):
        _decide(q, flag, "fresh", None)
    # Guessing the version does not help: the store holds no view in this session.
    with pytest.raises(InvalidDecision, match="the store has no view of version 1 by anna"):
        _decide(q, flag, "fresh", 1)
    # A view in another session, or by another user in this session, does not count.
    q.item(flag, "anna", session="other")
    q.item(flag, "alla", session="fresh")
    with pytest.raises(InvalidDecision, match="no view of version 1 by anna in this session"):
        _decide(q, flag, "fresh", 1)
    _nothing_decided(q, flag)
    # Opened in this session, at this version: decided.
    q.item(flag, "anna", session="fresh")
    assert _decide(q, flag, "fresh", 1).item_version == 2
    assert q.verify_audit_log().ok
    q.close()


def test_a_view_of_an_older_version_does_not_count(store_url: str) -> None:
    q, flag = _queue(store_url)
    q.item(flag, "anna", session="s1")
    assert flag in q.escalate_overdue(datetime.now() + timedelta(days=60))  # version 2
    with pytest.raises(DecisionConflict, match="changed since you read it"):
        _decide(q, flag, "s1", 1)
    with pytest.raises(InvalidDecision, match="no view of version 2 by anna"):
        _decide(q, flag, "s1", 2)
    assert q.decisions(flag_id=flag).empty
    q.item(flag, "anna", session="s1")
    assert _decide(q, flag, "s1", 2).item_version == 3
    q.close()


def test_the_view_row_holds_a_hash_of_the_session_never_the_session(store_url: str) -> None:
    q, flag = _queue(store_url)
    q.item(flag, "anna", session="raw-session-id-42")
    row = q.audit_log().iloc[-1]
    assert row["action"] == "view_family"
    assert row["details"] == {
        "flag_id": flag,
        "district": "north",
        "version": 1,
        "session": session_ref("raw-session-id-42"),
    }
    assert "raw-session-id-42" not in q.audit_log().to_json()
    q.close()


def test_services_must_be_of_the_familys_district(store_url: str) -> None:
    q, flag = _queue(store_url)
    q.item(flag, "anna", session="s1")

    def offer(services: list[str]) -> Decision:
        return q.record_decision(
            flag,
            "anna",
            "support_offered",
            RATIONALE,
            services,
            agrees_with_model=True,
            expected_version=1,
            session="s1",
            catalog=CATALOG,
        )

    refused = (
        f"flag {flag}: 2 of the services offered are not services available in this "
        "family's district \\(north\\) in the services catalogue: 'sth-001', '<b>help</b>'"
    )
    with pytest.raises(InvalidDecision, match=refused):
        offer(["nrt-001", "sth-001", "<b>help</b>"])
    _nothing_decided(q, flag)
    assert offer(["nrt-002", "nrt-001"]).services_offered == ("nrt-002", "nrt-001")
    q.close()


def test_a_district_unknown_to_the_catalogue_has_no_services() -> None:
    q, _ = _queue("sqlite://")
    q.add_user("sasha", PASSWORD, "specialist", ["east"])
    flag = int(q.items(districts=["east"], status="open")["flag_id"].iloc[0])
    q.item(flag, "sasha", session="s1")
    with pytest.raises(InvalidDecision, match=r"district \(east\).*'nrt-001'"):
        q.record_decision(
            flag,
            "sasha",
            "support_offered",
            RATIONALE,
            ["nrt-001"],
            agrees_with_model=True,
            expected_version=1,
            session="s1",
            catalog=CATALOG,
        )


def test_the_refusal_names_at_most_five_services() -> None:
    with pytest.raises(InvalidDecision, match=r"7 of the .*'x4' and 2 more$"):
        check_services_available(3, "north", [f"x{i}" for i in range(7)], ["a"])
    check_services_available(3, "north", [], [])
