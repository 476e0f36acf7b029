"""What the app does for a logged-in user, without any user interface.

Every method takes the user name that the web server authenticated (``request.username``) and
hands it to ``risk.review``, which loads the user as stored now and enforces district access,
rationale and versioning rules, and writes the audit log. Nothing here decides, closes or
changes more than one item, and nothing trusts an id or a district the client sent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from risk.review import (
    DEFAULT_SLA_WORKING_DAYS,
    AccessDenied,
    AuthenticationFailed,
    Decision,
    InvalidDecision,
    ReviewItem,
    ReviewQueue,
    UnknownItem,
    User,
)

#: Tiers in the order the queue shows them.
TIER_ORDER: tuple[str, ...] = ("priority", "support", "universal")
#: Statuses that still await a person's decision.
AWAITING: tuple[str, ...] = ("open", "escalated")
#: Roles that see the supervisor view.
SUPERVISOR_ROLES: tuple[str, ...] = ("supervisor", "admin")
#: Decisions where someone reached out to the family (the combined human and model "flag").
OUTREACH: tuple[str, ...] = ("support_offered", "referred", "family_declined")
#: Sessions remembered (what each opened, at which version); the oldest are forgotten.
MAX_SESSIONS = 5000


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


class _Sessions:
    """What each (user, browser session) opened and at which version (bounded, thread-safe)."""

    def __init__(self, capacity: int = MAX_SESSIONS) -> None:
        self._capacity = capacity
        self._data: OrderedDict[tuple[str, str], _Session] = OrderedDict()
        self._lock = threading.Lock()

    def opened(self, key: tuple[str, str], card: Card) -> None:
        with self._lock:
            s = self._data.pop(key, None) or _Session()
            s.seen[card.item.flag_id] = card.item.version
            s.seen.move_to_end(card.item.flag_id)
            while len(s.seen) > 1000:
                s.seen.popitem(last=False)
            s.card = (card.item.flag_id, card.item.family_id, card.event_ids())
            self._data[key] = s
            while len(self._data) > self._capacity:
                self._data.popitem(last=False)

    def version(self, key: tuple[str, str], flag_id: int) -> int | None:
        with self._lock:
            s = self._data.get(key)
            return None if s is None else s.seen.get(flag_id)

    def card(self, key: tuple[str, str]) -> tuple[int, str, frozenset[str]] | None:
        with self._lock:
            s = self._data.get(key)
            return None if s is None else s.card


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def working_days(
    created: Iterable[datetime], now: datetime, holidays: Sequence[date] = ()
) -> np.ndarray:
    """Working days (Monday to Friday, minus ``holidays``) from each ``created`` to ``now``.

    Examples
    --------
    >>> from datetime import datetime
    >>> working_days([datetime(2025, 6, 2), datetime(2025, 6, 6, 9)], datetime(2025, 6, 9)).tolist()
    [5, 1]
    """
    start = np.asarray(pd.Series(created).to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]")
    hol = np.array([np.datetime64(h, "D") for h in holidays], dtype="datetime64[D]")
    return np.busday_count(start, np.datetime64(now.date(), "D"), holidays=hol)


class ReviewService:
    """The review app's actions for an authenticated user, over a :class:`ReviewQueue`.

    Parameters
    ----------
    queue : ReviewQueue
        The review queue and its store.
    sla_working_days : int
        Working days after which an item awaiting a decision is marked overdue.
    holidays : sequence of date
        Non-working days besides weekends.

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

    def __init__(
        self,
        queue: ReviewQueue,
        *,
        sla_working_days: int = DEFAULT_SLA_WORKING_DAYS,
        holidays: Sequence[date] = (),
    ) -> None:
        self.queue = queue
        self.sla_working_days = sla_working_days
        self.holidays = tuple(holidays)
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

    def _awaiting(
        self,
        username: str | None,
        *,
        district: str | None = None,
        status: str | Sequence[str] = AWAITING,
        now: datetime | None = None,
    ) -> pd.DataFrame:
        user = self.user(username)
        items = self.queue.items(
            status=status, districts=None if not district else [district], user=user.name
        )
        at = now or _utcnow()
        items["age_days"] = (
            working_days(items["created_at"], at, self.holidays).astype("int64")
            if len(items)
            else pd.Series([], dtype="int64")
        )
        items["overdue"] = (items["status"] == "escalated") | (
            (items["status"] == "open") & (items["age_days"] > self.sla_working_days)
        )
        rank = {t: i for i, t in enumerate(TIER_ORDER)}
        items["_tier"] = items["tier"].map(rank).fillna(len(rank)).astype("int64")
        items = items.sort_values(
            ["_tier", "score", "flag_id"], ascending=[True, False, True], kind="stable"
        )
        return items.drop(columns="_tier").reset_index(drop=True)

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
        items = self._awaiting(username, district=district, status=status, now=now)
        if tier:
            items = items[items["tier"] == tier]
        total = len(items)
        n_pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), n_pages)
        rows = items.iloc[(page - 1) * page_size : page * page_size].reset_index(drop=True)
        return QueuePage(
            rows=rows[
                [
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
                ]
            ],
            total=total,
            overdue=int(items["overdue"].sum()),
            page=page,
            n_pages=n_pages,
        )

    def list_queue(
        self, username: str | None, *, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """List the user's items awaiting a decision, as JSON-ready dicts, by tier then score."""
        items = self._awaiting(username, now=now)
        out = []
        for r in items.to_dict(orient="records"):
            out.append(
                {
                    "flag_id": int(r["flag_id"]),
                    "family_id": str(r["family_id"]),
                    "district": str(r["district"]),
                    "tier": str(r["tier"]),
                    "score": float(r["score"]),
                    "status": str(r["status"]),
                    "rank_in_district": int(r["rank_in_district"]),
                    "version": int(r["version"]),
                    "created_at": pd.Timestamp(r["created_at"]).isoformat(),
                    "age_working_days": int(r["age_days"]),
                    "overdue": bool(r["overdue"]),
                    "run_id": str(r["run_id"]),
                    "model_version": str(r["model_version"]),
                    "as_of": str(r["as_of"]),
                }
            )
        return out

    # -- one family -----------------------------------------------------------------------

    def open_family(self, username: str | None, session: str, flag_id: int) -> Card:
        """Open a family card (access checked and the view audited by ``risk.review``)."""
        user = self.user(username)
        item = self.queue.item(int(flag_id), user.name)
        decisions = self.queue.decisions(user=user.name)
        decisions = decisions[decisions["family_id"] == item.family_id].reset_index(drop=True)
        card = Card(item=item, decisions=decisions)
        self._sessions.opened((user.name, session), card)
        return card

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

        Raises
        ------
        DecisionConflict
            The item was decided, or changed since this session opened it.
        AccessDenied, InvalidDecision, AuthenticationFailed, UnknownItem
            As ``risk.review`` decides.
        """
        user = self.user(username)
        return self.queue.record_decision(
            int(flag_id),
            user.name,
            decision,
            rationale,
            list(services_offered or ()),
            agrees_with_model=agrees_with_model,
            expected_version=self._sessions.version((user.name, session), int(flag_id)),
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
            raise InvalidDecision(f"dispute event {event_id}: open the family card first")
        flag_id, family_id, events = card
        if str(event_id) not in events:
            raise InvalidDecision(
                f"dispute event {event_id}: not a record of family {family_id} (flag {flag_id})"
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
        self, username: str | None, *, now: datetime | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the supervisor's items awaiting a decision and the decisions of their districts.

        Items carry their age and overdue mark; decisions carry the item's tier and score.
        """
        user = self.supervisor(username)
        waiting = self._awaiting(user.name, now=now)
        decisions = self.queue.decisions(user=user.name)
        items = self.queue.items(status="decided", user=user.name)[["flag_id", "tier", "score"]]
        decisions = decisions.merge(items, on="flag_id", how="left")
        return waiting, decisions
