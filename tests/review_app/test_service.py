"""ReviewService without a server: queue order, paging, filters, overdue, access, supervisors."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from review_app import _supervisor as sup
from review_app import demo_users, make_auth
from review_app._service import ReviewService
from risk.review import AWAITING, AccessDenied, AuthenticationFailed, InvalidDecision
from tests.review_app.review_app_fakes import USERS, make_queue


@pytest.fixture(scope="module")
def service(tmp_path_factory, screening):  # type: ignore[no-untyped-def]
    q = make_queue(tmp_path_factory.mktemp("svc") / "s.db", screening)
    yield ReviewService(q)
    q.close()


def test_queue_is_mine_ordered_by_tier_then_score_and_paged(service: ReviewService) -> None:
    page = service.queue_page("anna", page_size=7)
    assert page.total == len(service.queue.items(districts=USERS["anna"][2]))
    assert page.n_pages == -(-page.total // 7) and len(page.rows) == 7
    rows = [
        service.queue_page("anna", page=p, page_size=7).rows for p in range(1, page.n_pages + 1)
    ]
    import pandas as pd

    every = pd.concat(rows, ignore_index=True)
    assert set(every["district"]) <= set(USERS["anna"][2])
    assert every["flag_id"].is_unique and len(every) == page.total
    keys = list(zip(every["tier"].map({"priority": 0, "support": 1}), -every["score"], strict=True))
    assert keys == sorted(keys)
    assert service.queue_page("anna", page=999, page_size=7).page == page.n_pages
    only = service.queue_page("anna", district="valdaysky", tier="priority")
    assert set(only.rows["district"]) == {"valdaysky"} and set(only.rows["tier"]) == {"priority"}
    with pytest.raises(AccessDenied, match="no access to district 'borovichsky'"):
        service.queue_page("anna", district="borovichsky")


def test_overdue_against_the_sla(service: ReviewService) -> None:
    now = datetime.now()
    assert service.queue_page("anna", now=now).overdue == 0
    later = service.queue_page("anna", now=now + timedelta(days=30))
    assert later.overdue == later.total and later.rows["overdue"].all()


def test_who_is_asking(service: ReviewService) -> None:
    with pytest.raises(AuthenticationFailed, match="not logged in"):
        service.list_queue(None)
    with pytest.raises(AuthenticationFailed, match="unknown user 'mallory'"):
        service.list_queue("mallory")
    with pytest.raises(AccessDenied, match="not a supervisor"):
        service.supervisor_data("anna")
    data = service.supervisor_data("sveta")
    assert data.awaiting == service.queue_page("sveta").total
    assert data.late.empty and data.overdue == 0


def test_dispute_needs_the_open_card(service: ReviewService) -> None:
    with pytest.raises(InvalidDecision, match="open the family card first"):
        service.dispute_record("anna", "s1", "E1", "wrong family entirely")
    flag = int(service.queue.items(districts=["valdaysky"])["flag_id"].iloc[0])
    c = service.open_family("anna", "s1", flag)
    with pytest.raises(InvalidDecision, match="not a record of family"):
        service.dispute_record("anna", "s1", "E-not-there", "wrong family entirely")
    with pytest.raises(InvalidDecision, match="open the family card first"):
        service.dispute_record("anna", "other-session", next(iter(c.event_ids())), "wrong family")


def test_auth_and_demo_users(service: ReviewService) -> None:
    auth = make_auth(service.queue)
    assert auth("anna", USERS["anna"][0]) and not auth("anna", "nope nope")
    users = demo_users(service.queue, ["velikiy_novgorod", "valdaysky", "borovichsky"])
    assert [u[2] for u in users] == ["specialist", "specialist", "supervisor"]
    name, password, _, districts = users[0]
    assert password and auth(name, password)
    assert service.queue.get_user(name).districts == frozenset(districts)
    assert all(
        p is None
        for _, p, _, _ in demo_users(
            service.queue, ["valdaysky", "borovichsky", "velikiy_novgorod"]
        )
    )


def test_counts_and_pages_come_from_the_store(service: ReviewService) -> None:
    page = service.queue_page("anna", page=2, page_size=5)
    assert page.total == service.queue.count_items(status=AWAITING, districts=USERS["anna"][2])
    everything = service.list_queue("anna")
    assert [r["flag_id"] for r in everything[5:10]] == page.rows["flag_id"].tolist()
    assert [r["flag_id"] for r in service.list_queue("anna", page=2, page_size=5)] == [
        r["flag_id"] for r in everything[5:10]
    ]
    assert service.list_queue("anna", page=10_000) == []
    with pytest.raises(InvalidDecision, match="page and page_size must be at least 1"):
        service.list_queue("anna", page=0)
    assert set(everything[0]) >= {"flag_id", "tier", "age_working_days", "overdue", "as_of"}
    later = datetime.now() + timedelta(days=30)
    late = service.queue_page("anna", page_size=3, now=later)
    assert late.overdue == late.total and late.rows["overdue"].all()


def test_supervisor_fairness_by_group_attributes(tmp_path, screening) -> None:  # type: ignore[no-untyped-def]
    q = make_queue(tmp_path / "sup.db", screening)
    svc = ReviewService(q)
    items = q.items(user="sveta", status="open")
    for i, fid in enumerate(items["flag_id"].head(24)):
        q.record_decision(
            int(fid),
            "sveta",
            "referred" if i % 3 else "no_outreach_needed",
            "Talked to the family at the centre about it.",
            agrees_with_model=i % 4 != 0,
        )
    data = svc.supervisor_data("sveta", now=datetime.now() + timedelta(days=60))
    assert data.overdue == data.awaiting == len(items) - 24 and len(data.late) == data.overdue
    assert data.late["age_days"].is_monotonic_decreasing
    d = data.decisions
    assert len(d) == 24 and d["settlement"].notna().all() and d["single_parent"].notna().all()
    assert q.audit_log()["action"].iloc[-1] == "supervisor_view"
    flags = {r["family_id"]: r for r in screening.flag_payloads().values()}
    fam = q.items(run_id="run-2025-06").set_index("flag_id")["family_id"]
    for row in d.itertuples():
        comp = flags[fam.loc[row.flag_id]]["composition"]
        assert (row.settlement, bool(row.large_family)) == (
            comp["settlement"],
            comp["large_family"],
        )
    note, table, fig = sup.fairness(d, "en")
    assert fig is not None
    assert {"District", "Settlement", "Single parent", "Large family", "Low income"} <= set(
        table["Attribute"]
    )
    assert d["low_income"].notna().all()
    districts = table.loc[table["Attribute"] == "District", "Group"].str.rstrip(" *")
    assert set(districts) <= {"Veliky Novgorod", "Valdaysky district", "Borovichsky district"}
    assert {"yes", "no"} & set(table["Group"].str.rstrip(" *"))
    q.close()


def test_the_app_reads_the_review_policy_of_risk_review() -> None:
    """One definition: the app's modules hold risk.review's objects, never copies of them."""
    import importlib
    import pkgutil

    import review_app
    import risk.review as rr

    policy = ("TIER_ORDER", "QUEUED_TIERS", "STATUSES", "AWAITING", "SUPERVISOR_ROLES", "OUTREACH")
    policy_values = {name: getattr(rr, name) for name in policy}
    policy_values |= {
        "DECISIONS": rr.DECISIONS,
        "ROLES": rr.ROLES,
        "GROUP_ATTRIBUTES": rr.GROUP_ATTRIBUTES,
    }
    from review_app import _service

    for name in ("AWAITING", "SUPERVISOR_ROLES", "DEFAULT_SLA_WORKING_DAYS"):
        assert getattr(_service, name) is getattr(rr, name), name
    for name in ("working_days", "overdue_cutoff", "is_overdue"):
        assert getattr(_service, name) is getattr(rr, name), name
    assert sup.OUTREACH is rr.OUTREACH
    # No module of the app states a policy tuple of its own (an equal tuple that is not risk's).
    for info in pkgutil.iter_modules(review_app.__path__):
        module = importlib.import_module(f"review_app.{info.name}")
        for attr, value in vars(module).items():
            if not isinstance(value, tuple):
                continue
            for name, wanted in policy_values.items():
                if value == wanted:
                    assert value is wanted, f"review_app.{info.name}.{attr} restates {name}"
    assert ReviewService.default_sla_working_days == rr.DEFAULT_SLA_WORKING_DAYS


def test_the_tier_filter_offers_only_tiers_the_queue_can_hold() -> None:
    from review_app._queue_view import status_choices, tier_choices
    from risk.review import QUEUED_TIERS, STATUSES

    for lang in ("ru", "en"):
        assert [v for _, v in tier_choices(lang)] == ["", *QUEUED_TIERS]
        assert [v for _, v in status_choices(lang)][1:] == list(STATUSES)
    assert QUEUED_TIERS == ("priority",)


def test_labels_name_exactly_the_codes_of_risk_review() -> None:
    from review_app import _i18n
    from risk.review import DECISIONS, ROLES, STATUSES, TIER_ORDER

    assert list(_i18n.TIER_NAMES) == list(TIER_ORDER)
    assert list(_i18n.STATUS_NAMES) == list(STATUSES)
    assert list(_i18n.DECISION_NAMES) == list(DECISIONS)
    assert list(_i18n.ROLE_NAMES) == list(ROLES)
