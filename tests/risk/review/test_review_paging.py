"""Paging, counting and the fairness attributes of the queue; upgrading a store from r0001."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk import example_payload, validate_payload
from risk.review import (
    DECIDED_ATTRIBUTE_COLUMNS,
    ITEM_COLUMNS,
    AccessDenied,
    AuthenticationFailed,
    ReviewError,
    ReviewQueue,
)
from risk.review import _models as m
from tests.risk.review.conftest import BACKENDS, store_at
from tests.risk.review.review_fakes import FakeScreening, make_screening

PASSWORD = "correct horse battery"
RATIONALE = "Spoke with the mother; she asked for help with the school fees."
TIER_RANK = {"priority": 0, "support": 1, "universal": 2}


def mixed_screening(n: int = 60, seed: int = 0) -> FakeScreening:
    """Flag priority and support tiers, with composition in every payload."""
    s = make_screening(n, n // 3, seed=seed)
    scores = s.scores.copy()
    rng = np.random.default_rng(seed)
    scores["flagged"] = scores["tier"] != "universal"
    # Scores that interleave across tiers, so that tier order differs from score order.
    scores["score"] = rng.uniform(0.05, 0.95, n)
    payloads = {}
    for i, (fid, district) in enumerate(
        scores.loc[scores["flagged"], ["family_id", "district"]].itertuples(index=False)
    ):
        payload = example_payload(fid, district=district)
        payload["needs"] = ["material"]
        payload["settlement"] = "rural" if i % 2 else "urban"
        payload["composition"] |= {
            "single_parent": i % 3 == 0,
            "large_family": i % 4 == 0,
            "low_income": i % 5 == 0,
            "settlement": "rural" if i % 2 else "urban",
        }
        payloads[fid] = dict(validate_payload(payload))
    return FakeScreening(scores=scores, payloads=payloads)


@pytest.fixture(scope="module")
def q(module_store_url: str) -> Iterator[ReviewQueue]:
    queue = ReviewQueue(module_store_url)
    queue.add_user("anna", PASSWORD, "specialist", ["north"])
    queue.add_user("vera", PASSWORD, "supervisor", ["north", "south"])
    queue.add_user("root", PASSWORD, "admin", [])
    queue.enqueue(mixed_screening(), "run-1")
    yield queue
    queue.close()


def _queue_key(items: pd.DataFrame) -> list[tuple[int, float, int]]:
    return list(
        zip(
            items["tier"].map(TIER_RANK),
            -items["score"],
            items["flag_id"],
            strict=True,
        )
    )


def test_queue_order_is_tier_then_score_then_flag(q: ReviewQueue) -> None:
    items = q.items(user="vera")
    assert list(items.columns) == list(ITEM_COLUMNS)
    assert set(items["tier"]) == {"priority", "support"}
    assert _queue_key(items) == sorted(_queue_key(items))
    by_score = q.items(user="vera", order="score")
    assert by_score["score"].is_monotonic_decreasing
    by_age = q.items(user="vera", order="age")
    assert by_age["created_at"].is_monotonic_increasing
    with pytest.raises(ReviewError, match="order must be one of queue, score, age; got 'tier'"):
        q.items(order="tier")  # type: ignore[arg-type]
    with pytest.raises(ReviewError, match="limit and offset must be at least 0"):
        q.items(limit=-1)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    page_size=st.integers(1, 15),
    status=st.sampled_from([None, "open", ("open", "escalated"), "decided"]),
    tier=st.sampled_from([None, "priority", "support", ("priority", "support")]),
    district=st.sampled_from([None, "north", "south"]),
)
def test_pages_add_up_to_the_whole_list_and_count_agrees(
    q: ReviewQueue,
    page_size: int,
    status: str | tuple[str, ...] | None,
    tier: str | tuple[str, ...] | None,
    district: str | None,
) -> None:
    filters = {
        "status": status,
        "tier": tier,
        "districts": None if district is None else [district],
        "user": "vera",
    }
    whole = q.items(**filters)  # type: ignore[arg-type]
    assert q.count_items(**filters) == len(whole)  # type: ignore[arg-type]
    pages = [
        q.items(**filters, limit=page_size, offset=start)  # type: ignore[arg-type]
        for start in range(0, len(whole) + page_size, page_size)
    ]
    assert all(len(p) <= page_size for p in pages)
    paged = pd.concat(pages, ignore_index=True)
    assert paged["flag_id"].tolist() == whole["flag_id"].tolist()
    if tier is not None:
        assert set(whole["tier"]) <= ({tier} if isinstance(tier, str) else set(tier))
    if district is not None:
        assert set(whole["district"]) <= {district}


def test_count_and_pages_respect_district_access(q: ReviewQueue) -> None:
    assert q.count_items(user="anna") == len(q.items(user="anna")) > 0
    assert set(q.items(user="anna", limit=5)["district"]) == {"north"}
    assert q.count_items(user="root") == 0 and q.items(user="root").empty
    with pytest.raises(AccessDenied, match="user 'anna' has no access to district 'south'"):
        q.count_items(user="anna", districts=["south"])
    assert q.audit_log()["action"].iloc[-1] == "access_denied"
    with pytest.raises(AuthenticationFailed, match="unknown user 'mallory'"):
        q.items(user="mallory", limit=1)
    cutoff = datetime(2000, 1, 1)
    assert q.count_items(user="anna", created_before=cutoff) == 0
    assert q.count_items(user="anna", created_before=datetime(2999, 1, 1)) == q.count_items(
        user="anna"
    )


# -- a page and its counts in one read ---------------------------------------------------------

#: Enqueue days of the aged store's items (one a day back from here) and cutoffs to count with.
AGED_FROM = datetime(2025, 6, 30, 15)
CUTOFFS = [datetime(2000, 1, 1), datetime(2025, 6, 1), datetime(2025, 6, 20, 15), AGED_FROM]


@pytest.fixture(scope="module", params=BACKENDS)
def aged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReviewQueue]:
    """Items enqueued on different days, some escalated and some decided."""
    with store_at(request.param, Path(tmp_path_factory.mktemp("aged"))) as url:
        queue = ReviewQueue(url)
        queue.add_user("anna", PASSWORD, "specialist", ["north"])
        queue.add_user("vera", PASSWORD, "supervisor", ["north", "south"])
        queue.enqueue(mixed_screening(90, seed=3), "run-aged")
        f = m.flags.c
        with queue._engine.begin() as conn:
            for k, flag_id in enumerate(sorted(int(i) for i in queue.items()["flag_id"])):
                status = "escalated" if k % 5 == 1 else "decided" if k % 7 == 3 else "open"
                conn.execute(
                    sa.update(m.flags)
                    .where(f.flag_id == flag_id)
                    .values(created_at=AGED_FROM - timedelta(days=k), status=status)
                )
        yield queue
        queue.close()


def _overdue_the_old_way(items: pd.DataFrame, cutoff: datetime) -> int:
    escalated = items["status"] == "escalated"
    late_open = (items["status"] == "open") & (items["created_at"] < cutoff)
    return int((escalated | late_open).sum())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    page=st.integers(-1, 12),
    page_size=st.integers(1, 15),
    status=st.sampled_from([None, "open", ("open", "escalated"), "escalated", "decided"]),
    tier=st.sampled_from([None, "priority", ("priority", "support")]),
    district=st.sampled_from([None, "north", "south"]),
    cutoff=st.sampled_from(CUTOFFS),
)
def test_a_page_and_its_counts_agree_with_items_and_count_items(
    aged: ReviewQueue,
    page: int,
    page_size: int,
    status: str | tuple[str, ...] | None,
    tier: str | tuple[str, ...] | None,
    district: str | None,
    cutoff: datetime,
) -> None:
    filters = {
        "status": status,
        "tier": tier,
        "districts": None if district is None else [district],
    }
    found = aged.page("vera", **filters, page=page, page_size=page_size, overdue_before=cutoff)  # type: ignore[arg-type]
    whole = aged.items(**filters, user="vera", order="queue")  # type: ignore[arg-type]
    assert found.total == len(whole) == aged.count_items(**filters, user="vera")  # type: ignore[arg-type]
    assert found.overdue == _overdue_the_old_way(whole, cutoff)
    assert found.n_pages == max(1, -(-len(whole) // page_size))
    assert found.page == min(max(1, page), found.n_pages)
    start = (found.page - 1) * page_size
    expected = aged.items(**filters, user="vera", order="queue", limit=page_size, offset=start)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(found.items, expected)
    assert found.items["flag_id"].tolist() == whole["flag_id"].tolist()[start : start + page_size]


def test_a_page_is_one_read_within_the_users_districts(aged: ReviewQueue) -> None:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement.strip().lower())

    sa.event.listen(aged._engine, "before_cursor_execute", record)
    try:
        found = aged.page("anna", page=2, page_size=4, overdue_before=AGED_FROM)
    finally:
        sa.event.remove(aged._engine, "before_cursor_execute", record)
    assert set(found.items["district"]) == {"north"}
    assert found.total == aged.count_items(user="anna")
    # One transaction, never SQLite's write lock: the user, the counts, the page; no payloads.
    begins = [s for s in seen if s.startswith("begin")]
    assert begins in ([], ["begin"])
    assert not [s for s in seen if "payload" in s or "for update" in s]
    assert len([s for s in seen if s.startswith("select")]) <= 4
    with pytest.raises(AccessDenied, match="user 'anna' has no access to district 'south'"):
        aged.page("anna", districts=["south"], overdue_before=AGED_FROM)
    last = aged.audit_log().iloc[-1]
    assert (last["action"], last["subject"]) == ("access_denied", "list queue")
    with pytest.raises(AuthenticationFailed, match="unknown user 'mallory'"):
        aged.page("mallory", overdue_before=AGED_FROM)
    with pytest.raises(ReviewError, match="page_size must be at least 1"):
        aged.page("anna", page_size=0, overdue_before=AGED_FROM)
    with pytest.raises(ReviewError, match="status must be among"):
        aged.page("anna", status="closed", overdue_before=AGED_FROM)


def test_listing_and_counting_never_read_payloads(q: ReviewQueue) -> None:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement.lower())

    sa.event.listen(q._engine, "before_cursor_execute", record)
    try:
        q.items(user="vera", limit=10, offset=5)
        q.items(user="vera")
        q.count_items(user="vera", status="open", tier="priority")
        q.decided_attributes("vera")
    finally:
        sa.event.remove(q._engine, "before_cursor_execute", record)
    assert seen and not [s for s in seen if "payload" in s]


def test_decided_attributes_for_supervisors_only(q: ReviewQueue) -> None:
    north = q.items(user="anna", status="open", limit=3)
    for i, fid in enumerate(north["flag_id"]):
        q.record_decision(int(fid), "anna", "referred", RATIONALE, agrees_with_model=bool(i % 2))
    before = len(q.audit_log())
    got = q.decided_attributes("vera")
    assert list(got.columns) == list(DECIDED_ATTRIBUTE_COLUMNS)
    assert set(north["flag_id"]) <= set(got["flag_id"])
    assert got["decision_id"].is_monotonic_increasing and got["decision_id"].is_unique
    log = q.audit_log()
    assert len(log) == before + 1
    assert log["action"].iloc[-1] == "supervisor_view"
    assert log["details"].iloc[-1] == {"districts": ["north", "south"], "n_decisions": len(got)}
    # The attributes are those of each family's payload as enqueued.
    payloads = mixed_screening().payloads
    families = q.items(run_id="run-1").set_index("flag_id")["family_id"]
    for row in got.itertuples():
        family = families.loc[row.flag_id]
        comp = payloads[family]["composition"]
        assert row.settlement == comp["settlement"]
        assert bool(row.single_parent) == comp["single_parent"]
        assert bool(row.large_family) == comp["large_family"]
        assert bool(row.low_income) == comp["low_income"]
    assert str(got["single_parent"].dtype) == "boolean"
    with pytest.raises(AccessDenied, match="user 'anna' \\(specialist\\) is not a supervisor"):
        q.decided_attributes("anna")
    last = q.audit_log().iloc[-1]
    assert (last["action"], last["details"]) == ("access_denied", {"reason": "role"})
    with pytest.raises(AuthenticationFailed, match="unknown user"):
        q.decided_attributes("mallory")
    assert q.decided_attributes("root").empty  # an admin without districts sees nothing
    assert q.verify_audit_log().ok


# -- upgrading a store created at r0001 -------------------------------------------------------


def _store_at_r0001(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from risk.review._store import MIGRATIONS_DIR, make_engine

    engine = make_engine(url, connect_timeout=5, lock_timeout=30)
    with engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "r0001")
    engine.dispose()


def _fill_like_r0001(url: str, screening: FakeScreening) -> dict[str, str]:
    """Write a run, its flags (payloads inline, as r0001 stored them), a user and a decision."""
    from hashlib import sha256

    from risk.review._audit import AuditEntry, append

    engine = sa.create_engine(url)
    md = sa.MetaData()
    md.reflect(engine)
    now = datetime(2025, 7, 1, 9, 0)
    flagged = screening.scores[screening.scores["flagged"]]
    texts = {f: json.dumps(screening.payloads[f], ensure_ascii=False) for f in flagged["family_id"]}
    with engine.begin() as conn:
        conn.execute(
            sa.insert(md.tables["runs"]).values(
                run_id="old-run",
                model_version="family_distress@2",
                as_of="2025-06-30",
                n_scored=len(screening.scores),
                n_flags=len(flagged),
                tier_counts_json="{}",
                created_at=now,
            )
        )
        conn.execute(
            sa.insert(md.tables["flags"]),
            [
                {
                    "run_id": "old-run",
                    "family_id": r.family_id,
                    "district": r.district,
                    "score": r.score,
                    "log_odds": r.log_odds,
                    "tier": r.tier,
                    "rank_in_district": int(r.rank_in_district),
                    "payload_json": texts[r.family_id],
                    "status": "open",
                    "version": 1,
                    "created_at": now,
                }
                for r in flagged.itertuples()
            ],
        )
        conn.execute(
            sa.insert(md.tables["users"]).values(
                name="old",
                role="specialist",
                password_hash="x",
                created_at=now,
                failed_logins=0,
            )
        )
        first = conn.execute(sa.select(sa.func.min(md.tables["flags"].c.flag_id))).scalar_one()
        conn.execute(
            sa.update(md.tables["flags"])
            .where(md.tables["flags"].c.flag_id == first)
            .values(status="decided", version=2, decided_at=now)
        )
        decision_id = conn.execute(
            sa.insert(md.tables["decisions"]).values(
                flag_id=first,
                user_name="old",
                decided_at=now,
                decision="referred",
                rationale=RATIONALE,
                services_offered_json="[]",
                agrees_with_model=True,
                item_version=2,
            )
        ).inserted_primary_key[0]
        # As the queue wrote it: every decision with its audit row.
        fields = {"decision_id": decision_id, "decision": "referred", "services_offered": []}
        fields |= {
            "agrees_with_model": True,
            "rationale_sha256": sha256(RATIONALE.encode()).hexdigest(),
        }
        append(conn, [AuditEntry("old", "decision", f"flag {first}", fields)])
    engine.dispose()
    return texts


def test_a_store_at_r0001_upgrades_in_place_and_keeps_every_payload(store_url: str) -> None:
    _store_at_r0001(store_url)
    screening = mixed_screening(45, seed=3)
    texts = _fill_like_r0001(store_url, screening)

    q = ReviewQueue(store_url)
    q.migrate()
    q.add_user("vera", PASSWORD, "supervisor", ["north", "south", "east"])
    items = q.items(run_id="old-run")
    assert len(items) == len(texts)
    for row in items.itertuples():
        assert q.item(int(row.flag_id), "vera").payload == json.loads(texts[row.family_id])
    with q._engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("flags")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("flags")}
    assert "payload_json" not in columns and {"settlement", "low_income"} <= columns
    assert "ix_flags_queue" in indexes and "ix_flags_status_district" not in indexes
    decided = q.decided_attributes("vera")
    assert len(decided) == 1 and decided["decision"].iloc[0] == "referred"
    family = items.set_index("flag_id").loc[decided["flag_id"].iloc[0], "family_id"]
    comp = screening.payloads[family]["composition"]
    assert decided["settlement"].iloc[0] == comp["settlement"]
    assert bool(decided["single_parent"].iloc[0]) == comp["single_parent"]
    # New runs enqueue on the upgraded store as on a fresh one.
    assert q.enqueue(make_screening(12, 4, prefix="new-"), "new-run").n_flags == 4
    assert q.count_items(run_id="new-run") == 4
    assert q.verify_audit_log().ok
    q.close()


def test_r0002_downgrades_and_upgrades_again_without_losing_payloads(store_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from risk.review._store import MIGRATIONS_DIR

    q = ReviewQueue(store_url)
    q.add_user("vera", PASSWORD, "supervisor", ["north", "south", "east"])
    q.enqueue(mixed_screening(24, seed=5), "run")
    before = {int(f): q.item(int(f), "vera").payload for f in q.items()["flag_id"]}

    def to(revision: str, down: bool) -> None:
        with q._engine.connect() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)

    to("r0001", down=True)
    with q._engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM flags WHERE payload_json <> ''")).scalar()
    assert n == len(before)
    to("head", down=False)
    assert {int(f): q.item(int(f), "vera").payload for f in q.items()["flag_id"]} == before
    q.close()
