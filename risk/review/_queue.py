"""The review queue: a facade over the store session and one collaborator per concern.

Where each method lives: intake (``_intake``: enqueue, runs), reading (``_reading``: items,
count_items, page, item), deciding (``_deciding``: record_decision, decisions), supervision and the
SLA (``_supervision``: decided_attributes, escalate_overdue, sweep, reassign, notes),
follow-ups and the treatment record (``_followup``), disputes (``_disputes``),
accounts (``_accounts``: users and logins) and the audit trail (``_auditlog``). All of them
share one :class:`~risk.review._session.Session`: its transactions, acting users and refusals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self

import pandas as pd
import sqlalchemy as sa

from risk.review._accounts import Accounts
from risk.review._audit import VerifyResult
from risk.review._auditlog import AuditTrail
from risk.review._calendar import WorkingCalendar
from risk.review._deciding import Deciding
from risk.review._decisions import Decision
from risk.review._disputes import Disputes
from risk.review._errors import StoreUnavailable
from risk.review._followup import FollowUps, FollowUpStep
from risk.review._intake import EnqueueResult, Intake
from risk.review._policy import DEFAULT_FIRST_CONTACT_WORKING_DAYS, DEFAULT_SLA_WORKING_DAYS
from risk.review._reading import (
    FamilyRecord,
    ItemPage,
    Order,
    Reading,
    ReviewItem,
    family_record,
)
from risk.review._screening import ScreeningLike
from risk.review._session import Session
from risk.review._store import in_memory, resolve_url, safe_url
from risk.review._supervision import Escalated, Supervision
from risk.review._users import AddressThrottle, LoginPolicy, User

if TYPE_CHECKING:
    from risk import ServiceCatalog


class ReviewQueue:
    """The review queue and its SQL store (SQLite file by default, PostgreSQL by URL).

    Every flag of a scoring run becomes one queue item; an item leaves the queue only through a
    decision that a user with access to the family's district records with a rationale. Every
    enqueued run, login, view, decision, dispute, escalation and refusal is appended to a
    hash-chained audit log in the same transaction as the action.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. None: ``RISK_STORE_URL``, else ``sqlite:///risk-review.db``.
    connect_timeout : float
        Seconds to wait for a PostgreSQL connection before :class:`StoreUnavailable`.
    lock_timeout : float
        Seconds a write may wait for another writer (SQLite busy timeout, PostgreSQL
        ``lock_timeout``) before :class:`StoreUnavailable`.
    login_policy : LoginPolicy
        How repeated failed logins are slowed down.

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> q.add_user("anna", "correct horse", "specialist", ["north"]).districts
    frozenset({'north'})
    >>> q.authenticate("anna", "correct horse").name
    'anna'
    >>> from risk import example_payload
    >>> class Run:  # anything with ``scores`` and ``flag_payloads()`` will do
    ...     scores = pd.DataFrame({
    ...         "family_id": ["f1", "f2"], "district": ["north", "north"], "score": [0.4, 0.1],
    ...         "log_odds": [-0.41, -2.2], "tier": ["priority", "universal"],
    ...         "flagged": [True, False], "rank_in_district": [1, 2], "model_version": "m@1",
    ...         "as_of": "2025-06-30", "advisory": "Advisory only."})
    ...     def flag_payloads(self):
    ...         return {"f1": example_payload("f1", district="north")}  # a risk.FlagPayload
    >>> q.enqueue(Run(), "run-1")
    EnqueueResult(run_id='run-1', n_flags=1, created=True)
    >>> flag = int(q.items(user="anna")["flag_id"].iloc[0])
    >>> q.item(flag, "anna").payload["district"]
    'north'
    >>> q.record_decision(flag, "anna", "support_offered", "Offered help with school costs.",
    ...                   ["svc-1"], agrees_with_model=True).item_version
    2
    >>> q.audit_log()["action"].tolist()
    ['user_added', 'login', 'enqueue_run', 'view_family', 'decision', 'followup_open']
    >>> q.verify_audit_log().ok
    True
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        connect_timeout: float = 5.0,
        lock_timeout: float = 30.0,
        login_policy: LoginPolicy = LoginPolicy(),  # noqa: B008 - frozen, immutable
    ) -> None:
        session = Session(
            url,
            connect_timeout=connect_timeout,
            lock_timeout=lock_timeout,
            login_policy=login_policy,
        )
        self._session = session
        self._accounts = Accounts(session)
        self._intake = Intake(session)
        self._reading = Reading(session)
        self._deciding = Deciding(session)
        self._supervision = Supervision(session)
        self._disputes = Disputes(session)
        self._trail = AuditTrail(session)
        self._follow_ups = FollowUps(session)

    # -- the store --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The store's SQLAlchemy URL (with any password; ``repr`` hides it)."""
        return self._session.url

    @property
    def in_memory(self) -> bool:
        """Whether the store is SQLite in memory: this object's alone, not shared by processes."""
        return in_memory(sa.make_url(self.url))

    @property
    def connect_timeout(self) -> float:
        """Seconds to wait for a PostgreSQL connection."""
        return self._session.connect_timeout

    @property
    def lock_timeout(self) -> float:
        """Seconds a write may wait for another writer."""
        return self._session.lock_timeout

    @property
    def login_policy(self) -> LoginPolicy:
        """How repeated failed logins are slowed down."""
        return self._session.login_policy

    @login_policy.setter
    def login_policy(self, policy: LoginPolicy) -> None:
        # A running app's operators (and tests) may tighten the policy without a new store.
        self._session.login_policy = policy

    @property
    def _engine(self) -> sa.Engine:
        return self._session.engine

    def __repr__(self) -> str:
        return f"{type(self).__name__}({safe_url(self.url)!r})"

    def close(self) -> None:
        """Release the store's connections."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> None:
        """Bring the store's schema to the newest migration (idempotent).

        Called on first use; call it explicitly to create a store up front.
        """
        self._session.migrate()

    # -- intake -----------------------------------------------------------------------------

    def enqueue(
        self, screening: ScreeningLike, run_id: str, *, actor: str = "scoring"
    ) -> EnqueueResult:
        """Put every flag of a scoring run in the queue, in one transaction, once.

        Only rows with ``flagged == True`` become items. Repeating the call with the same
        ``run_id`` changes nothing; a run killed midway leaves nothing behind, so running it
        again completes it exactly once.

        Parameters
        ----------
        screening : ScreeningLike
            The scored run (``scores`` and ``flag_payloads()``).
        run_id : str
            Identifier of the run, unique in the store.
        actor : str
            Who enqueues, for the audit log.

        Returns
        -------
        EnqueueResult

        Raises
        ------
        ReviewError
            The screening is malformed, or ``run_id`` was already enqueued with other flags.
        """
        return self._intake.enqueue(screening, run_id, actor=actor)

    def runs(self) -> pd.DataFrame:
        """List enqueued runs: run_id, model_version, as_of, n_scored, n_flags, tier_counts, ...."""
        return self._intake.runs()

    # -- reading ----------------------------------------------------------------------------

    def items(
        self,
        *,
        run_id: str | None = None,
        status: str | Iterable[str] | None = None,
        districts: Iterable[str] | None = None,
        tier: str | Iterable[str] | None = None,
        created_before: datetime | None = None,
        user: User | str | None = None,
        order: Order = "queue",
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """List queue items, a page at a time if asked (payloads are read one by one: :meth:`item`).

        Parameters
        ----------
        run_id : str, optional
            Only this run.
        status : str or iterable of str, optional
            ``open``, ``escalated`` and/or ``decided``.
        districts : iterable of str, optional
            Only these districts.
        tier : str or iterable of str, optional
            Only these tiers.
        created_before : datetime, optional
            Only items enqueued before this time (naive UTC, or aware).
        user : User or str, optional
            The acting user: only their districts are listed, and asking for other districts is
            refused. The review app always passes it; None is for back-office tools.
        order : {"queue", "score", "age"}
            ``queue``: tier (``priority`` first), then score high to low; ``score``: score high
            to low; ``age``: longest waiting first. Ties by flag_id.
        limit : int, optional
            At most this many items (None: all).
        offset : int
            Skip this many items first (with ``order``, a stable page).

        Returns
        -------
        pandas.DataFrame
            Columns ``ITEM_COLUMNS`` (flag_id, run_id, family_id, district, status, score, ...).

        Examples
        --------
        >>> q = ReviewQueue("sqlite://")
        >>> q.items(status="open", order="queue", limit=25, offset=50).empty
        True
        """
        return self._reading.items(
            run_id=run_id,
            status=status,
            districts=districts,
            tier=tier,
            created_before=created_before,
            user=user,
            order=order,
            limit=limit,
            offset=offset,
        )

    def count_items(
        self,
        *,
        run_id: str | None = None,
        status: str | Iterable[str] | None = None,
        districts: Iterable[str] | None = None,
        tier: str | Iterable[str] | None = None,
        created_before: datetime | None = None,
        user: User | str | None = None,
    ) -> int:
        """Count the items :meth:`items` would list with the same filters (one SQL count).

        Examples
        --------
        >>> ReviewQueue("sqlite://").count_items(status=["open", "escalated"])
        0
        """
        return self._reading.count_items(
            run_id=run_id,
            status=status,
            districts=districts,
            tier=tier,
            created_before=created_before,
            user=user,
        )

    def page(
        self,
        user: User | str,
        *,
        status: str | Iterable[str] | None = None,
        districts: Iterable[str] | None = None,
        tier: str | Iterable[str] | None = None,
        page: int = 1,
        page_size: int = 25,
        overdue_before: datetime,
    ) -> ItemPage:
        """One page of ``user``'s queue (queue order) with its counts, in one read transaction.

        What :meth:`items` (``order="queue"``, ``limit``, ``offset``) and :meth:`count_items`
        return with the same filters, read together: ``total`` items, ``overdue`` of them
        (escalated, or open and enqueued before ``overdue_before``, e.g. ``overdue_cutoff``),
        and the page asked for, clipped to the last (``page`` and ``n_pages``).

        Examples
        --------
        >>> from datetime import datetime
        >>> q = ReviewQueue("sqlite://")
        >>> _ = q.add_user("anna", "correct horse", "specialist", ["north"])
        >>> found = q.page("anna", page=3, overdue_before=datetime(2025, 1, 1))
        >>> found.total, found.overdue, found.page, found.n_pages, found.items.empty
        (0, 0, 1, 1, True)
        """
        return self._reading.page(
            status=status,
            districts=districts,
            tier=tier,
            user=user,
            page=page,
            page_size=page_size,
            overdue_before=overdue_before,
        )

    def item(self, flag_id: int, user: User | str, *, session: str | None = None) -> ReviewItem:
        """One item with its payload, for ``user`` (access checked, the view audited).

        ``session``: the app session it is opened in (its hash and the item's version go
        into the ``view_family`` row; a decision in that session needs this view).

        Raises
        ------
        UnknownItem
            No such flag.
        AccessDenied, AuthenticationFailed
            The user may not see it (the refusal is audited).
        """
        return self._reading.item(flag_id, user, session)

    def family_record(self, family_id: str, user: User | str) -> FamilyRecord:
        """Return what the store holds about a family, for its report (access checked, audited).

        The family's items with their payloads, the decisions on them (the deciding user's role,
        never their name) and its disputed records; read in one transaction that appends a
        ``family_report`` audit row.

        Raises
        ------
        UnknownItem
            The family is not in the queue.
        AccessDenied, AuthenticationFailed
            The user may not see the family's district (the refusal is audited).
        """
        return family_record(self._session, family_id, user)

    # -- decisions --------------------------------------------------------------------------

    def record_decision(
        self,
        flag_id: int,
        user: User | str,
        decision: str,
        rationale: str,
        services_offered: Iterable[str] = (),
        *,
        agrees_with_model: bool,
        expected_version: int | None = None,
        session: str | None = None,
        catalog: ServiceCatalog | None = None,
    ) -> Decision:
        """Record a person's decision on a queue item; the only way an item is decided.

        A decision of ``support_offered`` or ``referred`` also opens the family's follow-up
        (:meth:`follow_ups`) in the same transaction, audited as ``followup_open``.

        Parameters
        ----------
        flag_id : int
            The item.
        user : User or str
            The deciding user; must exist and have access to the family's district.
        decision : str
            One of ``DECISIONS``.
        rationale : str
            Why, at least 20 characters.
        services_offered : iterable of str
            Services offered; required with (and only with) ``support_offered``.
        agrees_with_model : bool
            Whether the specialist agrees that the family needed a closer look.
        expected_version : int, optional
            The item version the user saw; if the item changed since, :class:`DecisionConflict`.
        session : str, optional
            The app session deciding: then ``expected_version`` is required and the store must
            hold this user's view of the item at its current version in this session
            (:meth:`item` with ``session``), else :class:`InvalidDecision`.
        catalog : risk.ServiceCatalog, optional
            Then every service offered must be one of the family's district in it.

        Returns
        -------
        Decision

        Raises
        ------
        InvalidDecision
            Bad code, short rationale, services missing or misplaced.
        DecisionConflict
            Another decision won, or the item changed since ``expected_version``.
        AccessDenied, AuthenticationFailed, UnknownItem
            As named.
        """
        return self._deciding.record_decision(
            flag_id,
            user,
            decision,
            rationale,
            services_offered,
            agrees_with_model=agrees_with_model,
            expected_version=expected_version,
            session=session,
            catalog=catalog,
        )

    def decisions(
        self,
        *,
        flag_id: int | None = None,
        run_id: str | None = None,
        decided_by: str | None = None,
        user: User | str | None = None,
        family_id: str | None = None,
    ) -> pd.DataFrame:
        """List recorded decisions (``DECISION_COLUMNS``), oldest first.

        ``user`` is the acting user, as in :meth:`items`: only their districts are listed.
        ``family_id``: only that family's.
        """
        return self._deciding.decisions(
            flag_id=flag_id,
            run_id=run_id,
            decided_by=decided_by,
            user=user,
            family_id=family_id,
        )

    # -- supervision and the SLA ------------------------------------------------------------

    def decided_attributes(self, user: User | str) -> pd.DataFrame:
        """Decided items of a supervisor's districts with their group attributes, for fairness.

        One row per decision: the item's district, tier and score, its group attributes as
        enqueued (``settlement``, ``single_parent``, ``large_family``, ``disabled_child``,
        ``low_income``; missing where the payload did not say), the decision, the specialist's
        agreement with the model and who decided. No payload and no rationale is read. The view
        is audited as one ``supervisor_view`` action.

        Parameters
        ----------
        user : User or str
            The acting user; must be a supervisor (or admin). Only their districts are listed.

        Returns
        -------
        pandas.DataFrame
            Columns ``DECIDED_ATTRIBUTE_COLUMNS``, oldest decision first; the yes/no
            attributes are pandas ``boolean`` (missing as ``<NA>``).

        Raises
        ------
        AccessDenied
            The user is not a supervisor (the refusal is audited).
        AuthenticationFailed
            No such user.

        Examples
        --------
        >>> q = ReviewQueue("sqlite://")
        >>> _ = q.add_user("vera", "correct horse", "supervisor", ["north"])
        >>> q.decided_attributes("vera").columns[:5].tolist()
        ['flag_id', 'decision_id', 'district', 'tier', 'score']
        >>> q.audit_log()["action"].tolist()[-1]
        'supervisor_view'
        """
        return self._supervision.decided_attributes(user)

    def escalate_overdue(
        self,
        now: datetime,
        *,
        sla_working_days: int = DEFAULT_SLA_WORKING_DAYS,
        holidays: Iterable[date] | WorkingCalendar = (),
    ) -> list[int]:
        """Move open items older than the SLA to supervisors (status ``escalated``).

        An item is overdue when more than ``sla_working_days`` working days (Monday to Friday,
        minus ``holidays``; or as a region's :class:`WorkingCalendar` counts them) have passed
        since it was enqueued. Escalated items still need a decision; nothing is ever closed
        automatically.

        Returns
        -------
        list of int
            The flag_ids escalated now.
        """
        return self._supervision.escalate_overdue(
            now, sla_working_days=sla_working_days, holidays=holidays
        )

    def sweep(
        self,
        now: datetime,
        *,
        calendar: WorkingCalendar,
        sla_working_days: int = DEFAULT_SLA_WORKING_DAYS,
        first_contact_working_days: int = DEFAULT_FIRST_CONTACT_WORKING_DAYS,
    ) -> list[Escalated]:
        """Escalate overdue items and follow-ups to the districts' supervisors; close nothing.

        Items awaiting a decision for more than ``sla_working_days`` working days of
        ``calendar``, and follow-ups whose outreach has not started (no family reached, no
        service accepted) within ``first_contact_working_days``, become ``escalated``, each
        audited. Idempotent and safe to run concurrently: each row escalates once.

        Examples
        --------
        >>> ReviewQueue("sqlite://").sweep(datetime(2026, 11, 30), calendar=WorkingCalendar())
        []
        """
        return self._supervision.sweep(
            now,
            sla_working_days=sla_working_days,
            first_contact_working_days=first_contact_working_days,
            calendar=calendar,
        )

    def reassign(
        self, flag_id: int, user: User | str, to: str, *, expected_version: int | None = None
    ) -> int:
        """Hand an item awaiting a decision to a named specialist of its district (audited).

        ``user`` must be a supervisor (or admin) of the district; ``to`` an existing user with
        role ``specialist`` and the item's district (else :class:`InvalidUser`). Returns the
        item's new version.
        """
        return self._supervision.reassign(flag_id, user, to, expected_version=expected_version)

    def add_note(self, flag_id: int, user: User | str, text: str) -> int:
        """Add a supervisor's note to an item (audited with its text); return the note's id."""
        return self._supervision.add_note(flag_id, user, text)

    def notes(self, flag_id: int, user: User | str) -> pd.DataFrame:
        """List the notes on an item: note_id, user, at, text (oldest first)."""
        return self._supervision.notes(flag_id, user)

    def assignees(self, flag_ids: Iterable[int]) -> dict[int, str]:
        """Return who each of these items was reassigned to (others are left out)."""
        return self._supervision.assignees(flag_ids)

    # -- follow-ups and the treatment record (``_followup``) --------------------------------

    def follow_ups(
        self,
        *,
        flag_id: int | None = None,
        family_id: str | None = None,
        status: str | Iterable[str] | None = None,
        user: User | str | None = None,
    ) -> pd.DataFrame:
        """List follow-ups (``FOLLOW_UP_COLUMNS``), oldest first; ``user``: their districts only."""
        return self._follow_ups.follow_ups(
            flag_id=flag_id, family_id=family_id, status=status, user=user
        )

    def follow_up_events(self, followup_id: int, user: User | str | None = None) -> pd.DataFrame:
        """List a follow-up's steps (``FOLLOW_UP_EVENT_COLUMNS``) in the order recorded."""
        return self._follow_ups.events(followup_id, user)

    def record_contact(
        self,
        followup_id: int,
        user: User | str,
        *,
        on: date,
        channel: str,
        reached: bool,
        note: str = "",
    ) -> FollowUpStep:
        """Record a contact attempt on day ``on`` by ``channel`` (``CHANNELS``), audited.

        The first attempt that reached the family starts the outreach. ``on`` may be neither in
        the future nor before the follow-up opened; ``user`` needs the family's district.
        """
        return self._follow_ups.record_contact(
            followup_id, user, on=on, channel=channel, reached=reached, note=note
        )

    def record_service(
        self,
        followup_id: int,
        user: User | str,
        service_id: str,
        stage: str,
        *,
        on: date,
        note: str = "",
        catalog: object = None,
    ) -> FollowUpStep:
        """Record a service ``accepted``, ``started`` or ``completed`` (audited).

        The service must be one ``catalog`` (default: ``risk``'s packaged catalogue) offers in
        the family's district. Accepting a service starts the outreach if no contact did.
        """
        return self._follow_ups.record_service(
            followup_id, user, service_id, stage, on=on, note=note, catalog=catalog
        )

    def record_declined(
        self, followup_id: int, user: User | str, *, on: date, note: str
    ) -> FollowUpStep:
        """Record that the family declined further help (the follow-up stays open until closed)."""
        return self._follow_ups.record_declined(followup_id, user, on=on, note=note)

    def close_follow_up(
        self,
        followup_id: int,
        user: User | str,
        outcome: str,
        rationale: str,
        *,
        expected_version: int | None = None,
    ) -> FollowUpStep:
        """Close a follow-up with an outcome (``OUTCOMES``) and a rationale, as for decisions."""
        return self._follow_ups.close(
            followup_id, user, outcome, rationale, expected_version=expected_version
        )

    def treatment_record(self, since: datetime | None = None) -> pd.DataFrame:
        """Per follow-up: the family, when outreach started and what was delivered.

        What evaluation and retraining read (``TREATMENT_COLUMNS``): family, district, flag,
        run, decision and when, ``outreach_started_at`` (first reached contact or accepted
        service), the services of each stage (counts and ids), ``declined_at``, ``closed_at``
        and ``outcome``. ``since``: only decisions recorded from then on.

        Examples
        --------
        >>> ReviewQueue("sqlite://").treatment_record().columns[:4].tolist()
        ['family_id', 'district', 'flag_id', 'run_id']
        """
        return self._follow_ups.treatment_record(since)

    # -- disputed records -------------------------------------------------------------------

    def dispute(self, event_id: str, user: User | str, reason: str, *, family_id: str) -> int:
        """Mark a family's record as disputed; scoring that family again leaves it out.

        Access is checked through the family's district as recorded in the queue.

        Returns
        -------
        int
            The dispute's id.
        """
        return self._disputes.dispute(event_id, user, reason, family_id=family_id)

    def disputed_event_ids(self, family_id: str | None = None) -> set[str]:
        """Return ids of disputed records (of one family, or all), to leave out when scoring."""
        return self._disputes.disputed_event_ids(family_id)

    # -- accounts ---------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str,
        role: str,
        districts: Iterable[str],
        *,
        actor: str = "admin",
    ) -> User:
        """Add a user; the password is stored only as a scrypt hash.

        Raises
        ------
        InvalidUser
            Bad name, role, districts or password, or the name is taken.
        """
        return self._accounts.add_user(name, password, role, districts, actor=actor)

    def get_user(self, name: str) -> User:
        """Return the stored user ``name``.

        Raises
        ------
        UnknownItem
            No such user.
        """
        return self._accounts.get_user(name)

    def get_user_and_active(self, name: str) -> tuple[User, bool]:
        """Return the stored user ``name`` and whether it may log in (not disabled), in one read.

        Raises
        ------
        UnknownItem
            No such user.
        """
        return self._accounts.get_user_and_active(name)

    def users(self) -> pd.DataFrame:
        """List users (never their password hashes): name, role, districts, lockout, active."""
        return self._accounts.users()

    def is_active(self, name: str) -> bool:
        """Whether ``name`` is a user who may log in (False for unknown and disabled users)."""
        return self._accounts.is_active(name)

    def disable_user(self, name: str, *, actor: str) -> User:
        """Disable ``name`` (refused at login; history kept); never the last active admin."""
        return self._accounts.disable_user(name, actor=actor)

    def enable_user(self, name: str, *, actor: str) -> User:
        """Enable a disabled user again."""
        return self._accounts.enable_user(name, actor=actor)

    def unlock_user(self, name: str, *, actor: str) -> User:
        """Clear ``name``'s failed logins and lockout."""
        return self._accounts.unlock_user(name, actor=actor)

    def reset_password(self, name: str, password: str, *, actor: str) -> User:
        """Give ``name`` a new password (only its hash is stored) and clear the lockout."""
        return self._accounts.reset_password(name, password, actor=actor)

    def set_role(self, name: str, role: str, *, actor: str) -> User:
        """Change ``name``'s role; never demote the last active admin."""
        return self._accounts.set_role(name, role, actor=actor)

    def set_districts(
        self,
        name: str,
        districts: Iterable[str] | None = None,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        actor: str,
    ) -> User:
        """Replace ``name``'s districts, or add and remove some (check them against the region).

        Examples
        --------
        >>> q = ReviewQueue("sqlite://")
        >>> _ = q.add_user("anna", "correct horse", "specialist", ["north"])
        >>> sorted(q.set_districts("anna", add=["south"], actor="root").districts)
        ['north', 'south']
        >>> q.user_history("anna")["action"].tolist()
        ['user_added', 'user_districts_changed']
        """
        return self._accounts.set_districts(name, districts, add=add, remove=remove, actor=actor)

    def user_history(self, name: str) -> pd.DataFrame:
        """Return the audit rows by or about ``name``: logins, decisions, account changes."""
        return self._accounts.user_history(name)

    def authenticate(
        self,
        name: str,
        password: str,
        *,
        now: datetime | None = None,
        client: str | None = None,
        throttle: AddressThrottle | None = None,
    ) -> User:
        """Log ``name`` in; every attempt is audited and failures are slowed down.

        After ``login_policy.free_attempts`` consecutive failures the user is locked out for an
        exponentially growing time, recorded in the store (it survives restarts). Every path
        costs one password hash, so the time taken does not tell whether the name is a user or
        locked out. Over-long or unprintable fields are refused before any query; a name that
        is not a user is audited as a keyed fingerprint, never as typed.

        Parameters
        ----------
        client : str, optional
            The client's address, recorded in the audit row.
        throttle : AddressThrottle, optional
            Failed logins per ``client``: an address that tried too often is refused (and
            audited) before any password hash.

        Raises
        ------
        AuthenticationFailed
            No name, unknown user, wrong password, over-long fields, or locked out.
        """
        return self._accounts.authenticate(
            name, password, now=now, client=client, throttle=throttle
        )

    # -- the audit trail --------------------------------------------------------------------

    def log_refusal(self, actor: str, doing: str, reason: str) -> None:
        """Audit a refusal decided outside the store (e.g. an expired login) as ``access_denied``.

        Examples
        --------
        >>> q = ReviewQueue("sqlite://")
        >>> q.log_refusal("anna", "request", "login expired")
        >>> q.audit_log()["action"].tolist()
        ['access_denied']
        """
        self._trail.log_refusal(actor, doing, reason)

    def audit_log(self) -> pd.DataFrame:
        """Return the audit log in chain order (seq, at, actor, action, subject, details, ...)."""
        return self._trail.audit_log()

    def verify_audit_log(self, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Check the audit chain, an exported ``anchor`` and the decisions against the log.

        The result names the first broken row and why. ``anchor`` is a ``(seq, hash)`` kept
        outside the database (:meth:`audit_anchor`): the log must still reach it.
        """
        return self._trail.verify(anchor=anchor)

    def audit_anchor(self) -> tuple[int, str]:
        """Return the chain head ``(seq, hash)`` to keep outside the database."""
        return self._trail.anchor()


def verify_audit_log(
    url: str | None = None,
    *,
    connect_timeout: float = 5.0,
    anchor: tuple[int, str] | None = None,
) -> VerifyResult:
    """Check the audit chain of the store at ``url`` (see :meth:`ReviewQueue.verify_audit_log`).

    Examples
    --------
    >>> verify_audit_log("sqlite://")
    VerifyResult(ok=True, n_rows=0, first_broken_seq=None, reason=None)
    """
    resolved = resolve_url(url)
    parsed = sa.make_url(resolved) if "://" in resolved else None
    if (
        parsed is not None
        and parsed.get_backend_name() == "sqlite"
        and not in_memory(parsed)
        and not Path(str(parsed.database)).exists()
    ):
        # Verifying must not create an empty store and call it intact.
        raise StoreUnavailable(f"no review store at {parsed.database}")
    with ReviewQueue(resolved, connect_timeout=connect_timeout) as q:
        return q.verify_audit_log(anchor=anchor)
