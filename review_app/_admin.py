"""The administration tab: users, their roles, districts and state, and each user's history.

Only admins see the tab, and every handler checks the role again on the server (a hidden tab
is no protection: the page calls handlers over HTTP). The store refuses unknown users, unknown
roles and disabling the last active admin; districts are checked here against the region,
which the store does not know. Every change is audited with the acting admin's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import gradio as gr
import pandas as pd

from review_app._i18n import (
    AUDIT_ACTION_NAMES,
    ROLE_NAMES,
    Lang,
    district_name,
    name,
    t,
    when,
)
from review_app._refusals import refusal, refused
from review_app._service import ReviewService
from risk.review import (
    ROLES,
    AccessDenied,
    InvalidUser,
    ReviewError,
    ReviewQueue,
    StoreUnavailable,
    User,
)


class NotAdmin(AccessDenied):
    """The user asked for an administration action but is not an admin."""


class Administration:
    """What the administration tab does, each call checked on the server: admins only.

    Parameters
    ----------
    service : ReviewService
        Loads the acting user (as every handler of the app does) and holds the queue.
    districts : sequence of str, optional
        District codes of the region users may be given; default :attr:`default_districts`,
        else the default region pack's.

    Examples
    --------
    >>> from risk.review import ReviewQueue
    >>> q = ReviewQueue("sqlite://")
    >>> _ = q.add_user("root", "correct horse", "admin", [])
    >>> admin = Administration(ReviewService(q), ["shimsky", "valdaysky"])
    >>> admin.add("root", "anna", "specialist", ["shimsky"], "another horse").districts
    frozenset({'shimsky'})
    >>> admin.set_districts("root", "anna", ["atlantis"])
    Traceback (most recent call last):
    ...
    risk.review._errors.InvalidUser: districts not in the region: atlantis
    """

    #: Districts of the region the app serves (``risk review --region`` sets it).
    default_districts: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, service: ReviewService, districts: Sequence[str] | None = None) -> None:
        self.service = service
        if districts is None:
            districts = self.default_districts
        if districts is None:
            from risk.regions import DEFAULT_REGION, load_region

            districts = tuple(load_region(DEFAULT_REGION).district_codes)
        self.districts: tuple[str, ...] = tuple(sorted(districts))

    @property
    def queue(self) -> ReviewQueue:
        """The review queue behind the service."""
        return self.service.queue

    def admin(self, username: str | None) -> User:
        """Load the acting user and refuse (and audit) anyone who is not an admin.

        Raises
        ------
        NotAdmin
        """
        user = self.service.user(username)
        if user.role != "admin":
            self.queue.log_refusal(user.name, "administration", "role")
            raise NotAdmin(f"administration: {user.name!r} is not an admin")
        return user

    def is_admin(self, username: str | None) -> bool:
        """Whether the acting user is an admin (no refusal audited: for showing the tab)."""
        return self.service.user(username).role == "admin"

    def check_districts(self, districts: Sequence[str]) -> None:
        """Refuse districts that are not in the region.

        Raises
        ------
        InvalidUser
        """
        unknown = sorted(set(districts) - set(self.districts))
        if unknown:
            raise InvalidUser(f"districts not in the region: {', '.join(unknown)}")

    def users(self, username: str | None) -> pd.DataFrame:
        """List the users (admins only)."""
        self.admin(username)
        return self.queue.users()

    def add(
        self, username: str | None, user: str, role: str, districts: Sequence[str], password: str
    ) -> User:
        """Add a user (admins only; districts of the region)."""
        actor = self.admin(username).name
        self.check_districts(districts)
        return self.queue.add_user(user, password, role, districts, actor=actor)

    def disable(self, username: str | None, user: str) -> User:
        """Disable a user (never the last active admin)."""
        return self.queue.disable_user(user, actor=self.admin(username).name)

    def enable(self, username: str | None, user: str) -> User:
        """Enable a disabled user."""
        return self.queue.enable_user(user, actor=self.admin(username).name)

    def unlock(self, username: str | None, user: str) -> User:
        """Clear a user's failed logins and lockout."""
        return self.queue.unlock_user(user, actor=self.admin(username).name)

    def reset_password(self, username: str | None, user: str, password: str) -> User:
        """Give a user a new password."""
        actor = self.admin(username).name
        return self.queue.reset_password(user, password, actor=actor)

    def set_role(self, username: str | None, user: str, role: str) -> User:
        """Change a user's role."""
        return self.queue.set_role(user, role, actor=self.admin(username).name)

    def set_districts(self, username: str | None, user: str, districts: Sequence[str]) -> User:
        """Replace a user's districts with districts of the region."""
        actor = self.admin(username).name
        self.check_districts(districts)
        return self.queue.set_districts(user, list(districts), actor=actor)

    def history(self, username: str | None, user: str) -> pd.DataFrame:
        """Return a user's audit history (admins only)."""
        self.admin(username)
        return self.queue.user_history(user)


def users_table(users: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Render the users as an admin reads them: role and districts named, state in words."""
    L = lang
    return pd.DataFrame(
        {
            t(L, "col_name"): users["name"].astype(str).tolist(),
            t(L, "col_role"): [name(ROLE_NAMES, r, L) for r in users["role"]],
            t(L, "col_districts"): [
                ", ".join(district_name(d, L) for d in ds) or "—" for ds in users["districts"]
            ],
            t(L, "col_active"): [t(L, "yes" if a else "no") for a in users["active"]],
            t(L, "col_locked"): [
                "—" if pd.isna(u) else when(pd.Timestamp(u).to_pydatetime(), L)
                for u in users["locked_until"]
            ],
        }
    )


def history_table(history: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Render a user's audit history: when, who, what, about whom, and the details."""
    L = lang

    def details(d: dict[str, Any]) -> str:
        return "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in sorted(d.items())
        )

    return pd.DataFrame(
        {
            t(L, "col_at"): [str(a)[:19].replace("T", " ") + " UTC" for a in history["at"]],
            t(L, "col_actor"): history["actor"].astype(str).tolist(),
            t(L, "col_action"): [name(AUDIT_ACTION_NAMES, a, L) for a in history["action"]],
            t(L, "col_subject"): history["subject"].astype(str).tolist(),
            t(L, "col_details"): [details(d) for d in history["details"]],
        }
    )


class AdminPanel:
    """The administration tab's components in one language, and their handlers."""

    def __init__(self, lang: Lang, admin: Administration) -> None:
        L = self.lang = lang
        self.admin = admin
        gr.Markdown("## " + t(L, "admin_head"))
        self.refresh = gr.Button(t(L, "refresh"), size="sm")
        self.table = gr.Dataframe(interactive=False, max_height=420, elem_classes="admin-users")
        with gr.Row():
            self.user = gr.Textbox(label=t(L, "admin_user"), scale=1)
            self.role = gr.Dropdown(
                [(name(ROLE_NAMES, r, L), r) for r in ROLES], label=t(L, "admin_role"), scale=1
            )
            self.districts = gr.Dropdown(
                [(district_name(d, L), d) for d in admin.districts],
                multiselect=True,
                label=t(L, "admin_districts"),
                scale=2,
            )
            self.password = gr.Textbox(label=t(L, "admin_password"), type="password", scale=1)
        with gr.Row():
            self.add = gr.Button(t(L, "admin_add"), size="sm", variant="primary")
            self.disable = gr.Button(t(L, "admin_disable"), size="sm")
            self.enable = gr.Button(t(L, "admin_enable"), size="sm")
            self.unlock = gr.Button(t(L, "admin_unlock"), size="sm")
            self.reset = gr.Button(t(L, "admin_reset"), size="sm")
            self.set_role = gr.Button(t(L, "admin_set_role"), size="sm")
            self.set_districts = gr.Button(t(L, "admin_set_districts"), size="sm")
            self.show_history = gr.Button(t(L, "admin_history"), size="sm")
        self.result = gr.Markdown("", elem_classes="admin-result")
        self.history = gr.Dataframe(interactive=False, max_height=420, visible=False)

    # -- wiring ---------------------------------------------------------------------------

    def wire(self) -> None:
        """Connect the buttons (private events; each handler checks the role again)."""
        private: dict[str, Any] = {"api_visibility": "private"}
        fields = [self.user, self.role, self.districts, self.password]
        changed = [self.result, self.table, self.password]
        self.refresh.click(self.load, None, self.table, **private)
        self.table.select(self.pick, None, [self.user, self.role, self.districts], **private)
        for button, action in (
            (self.add, self.do_add),
            (self.disable, self.do_disable),
            (self.enable, self.do_enable),
            (self.unlock, self.do_unlock),
            (self.reset, self.do_reset),
            (self.set_role, self.do_set_role),
            (self.set_districts, self.do_set_districts),
        ):
            button.click(action, fields, changed, **private)
        self.show_history.click(self.do_history, self.user, [self.result, self.history], **private)

    # -- handlers -------------------------------------------------------------------------

    def load(self, request: gr.Request) -> Any:
        """Return the users table for an admin; nothing for anyone else (their tab is hidden)."""
        try:
            if not self.admin.is_admin(request.username):
                return None
            return users_table(self.admin.users(request.username), self.lang)
        except (ReviewError, StoreUnavailable):
            return None

    def pick(self, evt: gr.SelectData, request: gr.Request) -> list[Any]:
        """Fill the form from the user picked in the table."""
        row = evt.row_value if evt.row_value is not None else []
        try:
            users = self.admin.users(request.username)
        except (ReviewError, StoreUnavailable) as exc:
            raise gr.Error(refusal(exc, self.lang), print_exception=False) from None
        found = users[users["name"] == (row[0] if row else None)]
        if found.empty:
            return [gr.update(), gr.update(), gr.update()]
        r = found.iloc[0]
        return [r["name"], r["role"], list(r["districts"])]

    def _run(self, user: str | None, what: str, change: Callable[[str], object]) -> list[Any]:
        L = self.lang
        user = (user or "").strip()
        if not user:
            return [refused(t(L, "admin_pick_user"), L), gr.update(), gr.update()]
        try:
            change(user)
        except (ReviewError, StoreUnavailable) as exc:
            return [refused(_admin_refusal(exc, L), L), gr.update(), gr.update()]
        # Re-read from the store after every change: the table shows what is stored.
        table = users_table(self.admin.queue.users(), L)
        done = name(AUDIT_ACTION_NAMES, what, L)
        return [t(L, "admin_done", user=user, what=done), table, ""]

    def do_add(
        self,
        user: str,
        role: str | None,
        districts: list[str] | None,
        password: str | None,
        request: gr.Request,
    ) -> list[Any]:
        L = self.lang
        if not role:
            return [refused(t(L, "admin_pick_role"), L), gr.update(), gr.update()]
        return self._run(
            user,
            "user_added",
            lambda u: self.admin.add(request.username, u, role, districts or [], password or ""),
        )

    def do_disable(self, user: str, _r: Any, _d: Any, _p: Any, request: gr.Request) -> list[Any]:
        return self._run(user, "user_disabled", lambda u: self.admin.disable(request.username, u))

    def do_enable(self, user: str, _r: Any, _d: Any, _p: Any, request: gr.Request) -> list[Any]:
        return self._run(user, "user_enabled", lambda u: self.admin.enable(request.username, u))

    def do_unlock(self, user: str, _r: Any, _d: Any, _p: Any, request: gr.Request) -> list[Any]:
        return self._run(user, "user_unlocked", lambda u: self.admin.unlock(request.username, u))

    def do_reset(
        self, user: str, _r: Any, _d: Any, password: str | None, request: gr.Request
    ) -> list[Any]:
        L = self.lang
        if not password:
            return [refused(t(L, "admin_no_password"), L), gr.update(), gr.update()]
        return self._run(
            user,
            "password_reset",
            lambda u: self.admin.reset_password(request.username, u, password),
        )

    def do_set_role(
        self, user: str, role: str | None, _d: Any, _p: Any, request: gr.Request
    ) -> list[Any]:
        L = self.lang
        if not role:
            return [refused(t(L, "admin_pick_role"), L), gr.update(), gr.update()]
        return self._run(
            user, "user_role_changed", lambda u: self.admin.set_role(request.username, u, role)
        )

    def do_set_districts(
        self, user: str, _r: Any, districts: list[str] | None, _p: Any, request: gr.Request
    ) -> list[Any]:
        return self._run(
            user,
            "user_districts_changed",
            lambda u: self.admin.set_districts(request.username, u, districts or []),
        )

    def do_history(self, user: str | None, request: gr.Request) -> list[Any]:
        L = self.lang
        user = (user or "").strip()
        if not user:
            return [refused(t(L, "admin_pick_user"), L), gr.update(visible=False)]
        try:
            rows = self.admin.history(request.username, user)
        except (ReviewError, StoreUnavailable) as exc:
            return [refused(_admin_refusal(exc, L), L), gr.update(visible=False)]
        if rows.empty:
            return [t(L, "admin_history_empty"), gr.update(visible=False)]
        return [
            f"**{t(L, 'admin_history')}: {user}**",
            gr.update(value=history_table(rows, L), visible=True),
        ]


def _admin_refusal(exc: ReviewError | StoreUnavailable, lang: Lang) -> str:
    if isinstance(exc, NotAdmin):
        return t(lang, "admin_not_admin")
    if isinstance(exc, InvalidUser) and str(exc).startswith("districts not in the region"):
        unknown = str(exc).split(": ", 1)[1]
        return t(lang, "admin_unknown_district", districts=unknown)
    return refusal(exc, lang)
