"""What the app does for a logged-in user, without any user interface.

Every method takes the user name that the web server authenticated (``request.username``) and
hands it to ``risk.review``, which loads the user as stored now and enforces district access,
rationale and versioning rules, and writes the audit log. Nothing here decides, closes or
changes more than one item, and nothing trusts an id or a district the client sent.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast

import pandas as pd

from risk import ServiceCatalog, load_catalog

# The review policy (statuses, supervisor roles, the working-day SLA) is risk.review's.
from risk.review import (
    AWAITING,
    DEFAULT_FIRST_CONTACT_WORKING_DAYS,
    DEFAULT_SLA_WORKING_DAYS,
    SUPERVISOR_ROLES,
    AccessDenied,
    AuthenticationFailed,
    Decision,
    InvalidDecision,
    ReviewItem,
    ReviewQueue,
    UnknownItem,
    User,
    WorkingCalendar,
    is_overdue,
    overdue_cutoff,
    working_days,
)

#: Columns of a queue page.
PAGE_COLUMNS: tuple[str, ...] = (
    "flag_id",
    "family_id",
    "district",
    "tier",
    "score",
    "status",
    "age_days",
    "overdue",
    "version",
    "created_at",
)
#: Most overdue items the supervisor view lists (the longest waiting).
MAX_LATE = 500
#: Sessions remembered per user (what each opened, at which version); the oldest are forgotten.
MAX_SESSIONS_PER_USER = 50
#: Cards remembered per session; the least recently opened are forgotten.
MAX_CARDS_PER_SESSION = 1000


class NotSupervisor(AccessDenied):
    """The supervisor view was asked for by a user who is not a supervisor."""


@dataclass(frozen=True)
class QueuePage:
    """One page of a user's queue.

    Attributes
    ----------
    rows : pandas.DataFrame
        The page's items: ``flag_id, family_id, district, tier, score, status, age_days,
        overdue, version, created_at``.
    total, overdue : int
        Items matching the filters, and how many of them are overdue.
    page, n_pages : int
        This page (from 1) and the number of pages.
    """

    rows: pd.DataFrame
    total: int
    overdue: int
    page: int
    n_pages: int


@dataclass(frozen=True)
class SupervisorData:
    """What the supervisor view shows, for the supervisor's districts.

    Attributes
    ----------
    awaiting, overdue, escalated : int
        Items awaiting a decision, how many of them are overdue, and how many escalated.
    late : pandas.DataFrame
        Overdue and escalated items, longest waiting first (at most ``MAX_LATE``), with
        ``age_days`` and ``overdue`` as on a queue page.
    decisions : pandas.DataFrame
        ``ReviewQueue.decided_attributes``: one row per decision with the item's tier, score
        and group attributes.
    late_follow_ups : pandas.DataFrame
        Escalated follow-ups (first contact late), ``ReviewQueue.follow_ups`` columns.
    """

    awaiting: int
    overdue: int
    escalated: int
    late: pd.DataFrame
    decisions: pd.DataFrame
    late_follow_ups: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Card:
    """A family card as the user may see it: the item, its payload, the family's decisions."""

    item: ReviewItem
    decisions: pd.DataFrame

    @property
    def payload(self) -> Mapping[str, Any]:
        """The flag payload as stored when the run was enqueued."""
        return self.item.payload

    def event_ids(self) -> frozenset[str]:
        """Ids of the records in the card's timeline."""
        return frozenset(str(e["event_id"]) for e in self.payload.get("timeline", []))


@dataclass
class _Session:
    seen: OrderedDict[int, int] = field(default_factory=OrderedDict)
    card: tuple[int, str, frozenset[str]] | None = None
    item: ReviewItem | None = None  # the open card's item as last read


class _Sessions:
    """What each (user, browser session) opened and at which version (bounded, thread-safe).

    Bounded per user: one user opening many cards or many sessions forgets only their own
    oldest, never another user's (users are the store's accounts, so they are few).
    """

    def __init__(
        self,
        per_user: int = MAX_SESSIONS_PER_USER,
        per_session: int = MAX_CARDS_PER_SESSION,
    ) -> None:
        self._per_user = per_user
        self._per_session = per_session
        self._users: dict[str, OrderedDict[str, _Session]] = {}
        self._lock = threading.Lock()

    def opened(self, key: tuple[str, str], card: Card) -> None:
        user, session = key
        with self._lock:
            sessions = self._users.setdefault(user, OrderedDict())
            s = sessions.pop(session, None) or _Session()
            s.seen[card.item.flag_id] = card.item.version
            s.seen.move_to_end(card.item.flag_id)
            while len(s.seen) > self._per_session:
                s.seen.popitem(last=False)
            s.card = (card.item.flag_id, card.item.family_id, card.event_ids())
            s.item = card.item
            sessions[session] = s
            while len(sessions) > self._per_user:
                sessions.popitem(last=False)

    def _get(self, key: tuple[str, str]) -> _Session | None:
        user, session = key
        sessions = self._users.get(user)
        return None if sessions is None else sessions.get(session)

    def version(self, key: tuple[str, str], flag_id: int) -> int | None:
        with self._lock:
            s = self._get(key)
            return None if s is None else s.seen.get(flag_id)

    def card(self, key: tuple[str, str]) -> tuple[int, str, frozenset[str]] | None:
        with self._lock:
            s = self._get(key)
            return None if s is None else s.card

    def item(self, key: tuple[str, str], flag_id: int) -> ReviewItem | None:
        with self._lock:
            s = self._get(key)
            if s is None or s.item is None or s.item.flag_id != int(flag_id):
                return None
            return s.item


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ReviewService:
    """The review app's actions for an authenticated user, over a :class:`ReviewQueue`.

    Parameters
    ----------
    queue : ReviewQueue
        The review queue and its store.
    sla_working_days : int, optional
        Working days after which an item awaiting a decision is marked overdue; default
        ``default_sla_working_days``.
    holidays : sequence of date or WorkingCalendar, optional
        Non-working days besides weekends, or the region's working calendar; default
        ``default_calendar``.
    catalog : risk.ServiceCatalog, optional
        The services a decision may offer (those of the family's district); default
        ``risk.load_catalog()``.

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> _ = q.add_user("anna", "correct horse", "specialist", ["north"])
    >>> ReviewService(q).queue_page("anna").total
    0
    >>> ReviewService(q).queue_page(None)
    Traceback (most recent call last):
    ...
    risk.review._errors.AuthenticationFailed: not logged in; log in first
    """

    #: The calendar and SLA of services built without them: the ``review`` command sets them
    #: from the region pack, so the app built by ``serve`` counts as the sweep does.
    default_calendar: ClassVar[WorkingCalendar] = WorkingCalendar()
    default_sla_working_days: ClassVar[int] = DEFAULT_SLA_WORKING_DAYS
    #: Working days within which a follow-up's first contact is due (shown on the card).
    first_contact_working_days: ClassVar[int] = DEFAULT_FIRST_CONTACT_WORKING_DAYS

    def __init__(
        self,
        queue: ReviewQueue,
        *,
        sla_working_days: int | None = None,
        holidays: Sequence[date] | WorkingCalendar | None = None,
        catalog: ServiceCatalog | None = None,
    ) -> None:
        self.queue = queue
        self.sla_working_days = (
            self.default_sla_working_days if sla_working_days is None else sla_working_days
        )
        self.calendar: WorkingCalendar = (
            self.default_calendar
            if holidays is None
            else holidays
            if isinstance(holidays, WorkingCalendar)
            else WorkingCalendar(days_off=frozenset(holidays))
        )
        self.holidays = self.calendar
        self.catalog = load_catalog() if catalog is None else catalog
        self._sessions = _Sessions()

    # -- who ------------------------------------------------------------------------------

    def user(self, username: str | None) -> User:
        """Load the stored user behind an authenticated name.

        Raises
        ------
        AuthenticationFailed
            No name (not logged in), or the user no longer exists.
        """
        if not username:
            raise AuthenticationFailed("not logged in; log in first")
        try:
            return self.queue.get_user(username)
        except UnknownItem:
            raise AuthenticationFailed(f"unknown user {username!r}; log in again") from None

    # -- queue ----------------------------------------------------------------------------

    def _filters(
        self,
        user: User,
        *,
        district: str | None = None,
        tier: str | None = None,
        status: str | Sequence[str] = AWAITING,
    ) -> dict[str, Any]:
        return {
            "status": _statuses(status),
            "districts": None if not district else [district],
            "tier": tier or None,
            "user": user.name,
        }

    def _with_age(self, items: pd.DataFrame, at: datetime) -> pd.DataFrame:
        items = items.reset_index(drop=True)
        items["age_days"] = (
            working_days(items["created_at"], at, self.holidays).astype("int64")
            if len(items)
            else pd.Series([], dtype="int64")
        )
        items["overdue"] = is_overdue(items["status"], items["age_days"], self.sla_working_days)
        return items

    def _count_overdue(self, filters: Mapping[str, Any], at: datetime) -> int:
        # What is_overdue says, counted in the store: escalated, and open past the cutoff.
        statuses = filters["status"]
        n = 0
        if "escalated" in statuses:
            n += self.queue.count_items(**{**filters, "status": "escalated"})
        if "open" in statuses:
            cutoff = overdue_cutoff(at, self.sla_working_days, self.holidays)
            n += self.queue.count_items(**{**filters, "status": "open", "created_before": cutoff})
        return n

    def queue_page(
        self,
        username: str | None,
        *,
        district: str | None = None,
        tier: str | None = None,
        status: str | Sequence[str] = AWAITING,
        page: int = 1,
        page_size: int = 25,
        now: datetime | None = None,
    ) -> QueuePage:
        """One page of the user's queue: their districts only, by tier then score.

        The page and its counts come from the store in one read transaction
        (``ReviewQueue.page``): only the page's rows are read.

        Parameters
        ----------
        username : str or None
            The authenticated user.
        district, tier : str, optional
            Filters (a district outside the user's is refused by ``risk.review``).
        status : str or sequence of str
            Statuses to list; by default those awaiting a decision.
        page, page_size : int
            Which page (from 1; clipped to the last) and how many items per page.
        now : datetime, optional
            Clock for ages (UTC); default now.
        """
        if page_size < 1:
            raise InvalidDecision(f"page_size must be at least 1; got {page_size}")
        user = self.user(username)
        at = now or _utcnow()
        found = self.queue.page(
            user.name,
            status=_statuses(status),
            districts=None if not district else [district],
            tier=tier or None,
            page=int(page),
            page_size=page_size,
            overdue_before=overdue_cutoff(at, self.sla_working_days, self.holidays),
        )
        rows = self._with_age(found.items, at)
        return QueuePage(
            rows=rows[list(PAGE_COLUMNS)],
            total=found.total,
            overdue=found.overdue,
            page=found.page,
            n_pages=found.n_pages,
        )

    def list_queue(
        self,
        username: str | None,
        *,
        page: int | None = None,
        page_size: int = 100,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """List the user's items awaiting a decision, as JSON-ready dicts, by tier then score.

        Parameters
        ----------
        username : str or None
            The authenticated user.
        page : int, optional
            None: every item awaiting a decision (no payloads are read). A number (from 1): only
            that page of ``page_size`` items (an empty list past the last page).
        page_size : int
            Items per page when ``page`` is given.
        now : datetime, optional
            Clock for ages (UTC); default now.
        """
        user = self.user(username)
        filters = self._filters(user)
        if page is None:
            items = self.queue.items(**filters, order="queue")
        else:
            if page < 1 or page_size < 1:
                raise InvalidDecision(
                    f"page and page_size must be at least 1; got {page} and {page_size}"
                )
            items = self.queue.items(
                **filters, order="queue", limit=page_size, offset=(page - 1) * page_size
            )
        items = self._with_age(items, now or _utcnow())
        created = [pd.Timestamp(x).isoformat() for x in items["created_at"]]
        columns = {
            "flag_id": items["flag_id"].astype("int64").tolist(),
            "family_id": items["family_id"].astype(str).tolist(),
            "district": items["district"].astype(str).tolist(),
            "tier": items["tier"].astype(str).tolist(),
            "score": items["score"].astype(float).tolist(),
            "status": items["status"].astype(str).tolist(),
            "rank_in_district": items["rank_in_district"].astype("int64").tolist(),
            "version": items["version"].astype("int64").tolist(),
            "created_at": created,
            "age_working_days": items["age_days"].astype("int64").tolist(),
            "overdue": items["overdue"].astype(bool).tolist(),
            "run_id": items["run_id"].astype(str).tolist(),
            "model_version": items["model_version"].astype(str).tolist(),
            "as_of": items["as_of"].astype(str).tolist(),
        }
        keys = list(columns)
        rows = zip(*columns.values(), strict=True)
        return [dict(zip(keys, values, strict=True)) for values in rows]

    # -- one family -----------------------------------------------------------------------

    def open_family(self, username: str | None, session: str, flag_id: int) -> Card:
        """Open a family card (access checked and the view audited by ``risk.review``)."""
        user = self.user(username)
        item = self.queue.item(int(flag_id), user.name, session=session)
        decisions = self.queue.decisions(user=user.name, family_id=item.family_id)
        card = Card(item=item, decisions=decisions)
        self._sessions.opened((user.name, session), card)
        return card

    def after_decision(
        self, username: str | None, session: str, decision: Decision, family_id: str
    ) -> tuple[pd.DataFrame, Card | None]:
        """Return the family's decisions and the card as the store holds them after ``decision``.

        The decisions are read again (one query). The card is the one this session opened,
        at the decided version the decision's own transaction set (its payload never changes):
        exact without a second, audited view of a card the person did not open again. None if
        this session holds no such card.
        """
        user = self.user(username)
        decisions = self.queue.decisions(user=user.name, family_id=str(family_id))
        item = self._sessions.item((user.name, session), decision.flag_id)
        if item is None:
            return decisions, None
        decided = dataclasses.replace(item, status="decided", version=item.version + 1)
        return decisions, Card(item=decided, decisions=decisions)

    def record_decision(
        self,
        username: str | None,
        session: str,
        flag_id: int,
        decision: str,
        rationale: str,
        services_offered: Iterable[str],
        agrees_with_model: bool,
    ) -> Decision:
        """Record one decision on one item, against the version this session last saw.

        Only after the card was opened in this session: ``risk.review`` finds the view in the
        store (this user, this session, the item's current version) and checks the services
        against :attr:`catalog`; the version this session opened is always sent.

        Raises
        ------
        DecisionConflict
            The item was decided, or changed since this session opened it.
        InvalidDecision
            The card was not opened in this session; a service not available in the family's
            district; or as ``risk.review`` decides.
        AccessDenied, AuthenticationFailed, UnknownItem
            As ``risk.review`` decides.
        """
        user = self.user(username)
        if not session:
            raise InvalidDecision(f"flag {flag_id}: decide in a session that opened the card")
        return self.queue.record_decision(
            int(flag_id),
            user.name,
            decision,
            rationale,
            list(services_offered or ()),
            agrees_with_model=agrees_with_model,
            expected_version=self._sessions.version((user.name, session), int(flag_id)),
            session=session,
            catalog=self.catalog,
        )

    def dispute_record(self, username: str | None, session: str, event_id: str, reason: str) -> int:
        """Mark a record of the family open in this session as disputed; return the dispute id.

        Raises
        ------
        InvalidDecision
            No family card is open in this session, or the record is not in its timeline.
        """
        user = self.user(username)
        card = self._sessions.card((user.name, session))
        if card is None:
            raise InvalidDecision(
                f"dispute event {event_id}: open the family card first", reason="no_card"
            )
        flag_id, family_id, events = card
        if str(event_id) not in events:
            raise InvalidDecision(
                f"dispute event {event_id}: not a record of family {family_id} (flag {flag_id})",
                reason="not_in_card",
            )
        return self.queue.dispute(str(event_id), user.name, reason, family_id=family_id)

    # -- supervisor -----------------------------------------------------------------------

    def supervisor(self, username: str | None) -> User:
        """Load the user if they may see the supervisor view.

        Raises
        ------
        NotSupervisor
            The user is not a supervisor.
        """
        user = self.user(username)
        if user.role not in SUPERVISOR_ROLES:
            raise NotSupervisor(f"user {user.name!r} ({user.role}) is not a supervisor")
        return user

    def supervisor_data(
        self, username: str | None, *, now: datetime | None = None, max_late: int = MAX_LATE
    ) -> SupervisorData:
        """Return counts, the longest-waiting late items and the decisions of the user's districts.

        Counts come from the store; at most ``max_late`` overdue or escalated items are read;
        decisions come with their items' group attributes from
        ``ReviewQueue.decided_attributes`` (audited as one ``supervisor_view``).
        """
        user = self.supervisor(username)
        at = now or _utcnow()
        filters = self._filters(user)
        awaiting = self.queue.count_items(**filters)
        escalated = self.queue.count_items(**{**filters, "status": "escalated"})
        cutoff = overdue_cutoff(at, self.sla_working_days, self.holidays)
        late = pd.concat(
            [
                self.queue.items(**{**filters, "status": "escalated"}, order="age", limit=max_late),
                self.queue.items(
                    **{**filters, "status": "open", "created_before": cutoff},
                    order="age",
                    limit=max_late,
                ),
            ],
            ignore_index=True,
        )
        late = late.sort_values(["created_at", "flag_id"], kind="stable").head(max_late)
        late = self._with_age(late, at)
        # Who a supervisor handed each item to (empty when nobody).
        assigned = self.queue.assignees(late["flag_id"]) if len(late) else {}
        late["assigned_to"] = [assigned.get(int(f), "") for f in late["flag_id"]]
        return SupervisorData(
            awaiting=awaiting,
            overdue=self._count_overdue(filters, at),
            escalated=escalated,
            late=late,
            decisions=self.queue.decided_attributes(user.name),
            late_follow_ups=self.queue.follow_ups(status="escalated", user=user.name),
        )

    # -- acting on overdue items ------------------------------------------------------------

    def specialists_for(self, username: str | None, flag_id: int) -> list[str]:
        """Specialists an item awaiting a decision can be reassigned to (the store re-checks)."""
        user = self.supervisor(username)
        found = self.queue.items(user=user.name, status=AWAITING)
        row = found[found["flag_id"] == int(flag_id)]
        if row.empty:
            raise UnknownItem(f"flag {flag_id}: not awaiting a decision in your districts")
        district = str(row["district"].iloc[0])
        users = self.queue.users()
        return sorted(
            str(r.name)
            for r in users.itertuples()
            if r.role == "specialist" and district in set(cast("Iterable[str]", r.districts))
        )

    def reassign(self, username: str | None, flag_id: int, to: str) -> int:
        """Reassign an item to a specialist of its district (checked and audited by the store)."""
        user = self.user(username)
        return self.queue.reassign(int(flag_id), user.name, str(to or ""))

    def add_note(self, username: str | None, flag_id: int, text: str) -> int:
        """Add a supervisor's note to an item (checked and audited by the store)."""
        user = self.user(username)
        return self.queue.add_note(int(flag_id), user.name, text or "")

    def notes(self, username: str | None, flag_id: int) -> pd.DataFrame:
        """List the notes on an item (for a user of its district)."""
        user = self.user(username)
        return self.queue.notes(int(flag_id), user.name)

    # -- follow-ups -------------------------------------------------------------------------

    def follow_up(
        self, username: str | None, flag_id: int
    ) -> tuple[dict[str, Any] | None, pd.DataFrame]:
        """Return the follow-up opened on ``flag_id`` (None if none) and its steps."""
        user = self.user(username)
        found = self.queue.follow_ups(flag_id=int(flag_id), user=user.name)
        if found.empty:
            return None, pd.DataFrame()
        head = {str(k): v for k, v in found.iloc[0].items()}
        return head, self.queue.follow_up_events(int(head["followup_id"]), user.name)

    def record_contact(
        self,
        username: str | None,
        followup_id: int,
        on: date,
        channel: str,
        reached: bool,
        note: str = "",
    ) -> int:
        """Record a contact attempt; return the follow-up's new version."""
        user = self.user(username)
        step = self.queue.record_contact(
            int(followup_id), user.name, on=on, channel=channel, reached=reached, note=note
        )
        return step.version

    def record_service(
        self,
        username: str | None,
        followup_id: int,
        service_id: str,
        stage: str,
        on: date,
        catalog: Any = None,
    ) -> int:
        """Record a service accepted, started or completed; return the new version."""
        user = self.user(username)
        step = self.queue.record_service(
            int(followup_id), user.name, service_id, stage, on=on, catalog=catalog
        )
        return step.version

    def record_declined(self, username: str | None, followup_id: int, on: date, note: str) -> int:
        """Record that the family declined further help; return the new version."""
        user = self.user(username)
        return self.queue.record_declined(int(followup_id), user.name, on=on, note=note).version

    def close_follow_up(
        self, username: str | None, followup_id: int, outcome: str, rationale: str
    ) -> int:
        """Close a follow-up with an outcome and a rationale; return the new version."""
        user = self.user(username)
        return self.queue.close_follow_up(int(followup_id), user.name, outcome, rationale).version


def _statuses(status: str | Sequence[str]) -> tuple[str, ...]:
    return (status,) if isinstance(status, str) else tuple(status)
