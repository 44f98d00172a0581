"""The closed loop shared by every area that hands an item to a handling unit (收集 → 梳理 → 交办 →
反馈 → 评价): constituents' cases from stations (issue 4) and deputies' suggestions (issue 7).

Data
----
``Case``            one item: where it came from (``source``), ``status``, ``category``, optional
                    ``station_id`` / ``deputy_id``, a public ``receipt_code`` (8 characters, no 0/O/1/I),
                    the private contact (never shown publicly), the public ``answer`` sent back, and
                    ``round`` (1; 2 after an unsatisfied rating reopened it: 二次交办, at most once).
                    ``source_ref`` lets another area link its own row (e.g. ``"suggestion:12"``);
                    areas may also point at a case with their own foreign key (``reception.case_id``).
``CaseAssignment``  one unit's part in one round: ``role`` main (主办) or assist (协办), a ``deadline``
                    (a local date), its ``state`` (pending → replied | declined | withdrawn), the reply
                    (with an optional A/B/C ``reply_class``) and an open extension request.
``CaseRating``      满意 / 基本满意 / 不满意, one per case and round (UNIQUE in the database).
``CaseStep``        the step log: who, when, action, unit, note. Only appended.

Status: ``new`` (待交办) → ``assigned`` (办理中) → ``answered`` (已答复, the main unit replied) →
``sent`` (已反馈, the answer went to the constituent) → ``closed`` (已办结). ``merged`` (已合并) marks a
duplicate folded into another case. A declined assignment sends the case back to ``new`` for
reassignment; an unsatisfied rating in round 1 sends it back to ``new`` in round 2.

API (every operation is one unit of work, ``core.transaction``: called on its own it commits; called
inside the caller's ``with transaction():`` it only flushes, so the caller's rows and the case's commit
together. A refusal raises ``DomainError`` with a Chinese message, ``Conflict`` (409) when the case's
state forbids the step, or ``CaseForbidden`` (403) when the user may not act on the case, and leaves
the database unchanged)::

    open_case(source, title, body, *, by=None, category=None, station=None, deputy=None,
              contact_name=None, contact_phone=None, source_ref=None) -> Case
    sort_case(case, *, by, category=None, title=None)                    # 梳理
    assign_case(case, unit, deadline, *, by, assisting=(), note=None) -> CaseAssignment   # 交办
    request_extension(case, until, reason, *, by)                       # the main unit
    decide_extension(case, approve, *, by, note=None)                   # staff
    decline_case(case, reason, *, by)                                   # the main unit: back to 待交办
    reply_case(case, text, *, by, reply_class=None) -> CaseAssignment   # an assigned unit only (403)
    send_answer(case, *, by, text=None)                                 # 反馈 to the constituent
    forward_reply(case, *, by, note=None)                               # the main unit's reply goes straight back
    rate_case(case, rating, *, by=None, rater="constituent", note=None) # 评价, once per round
    close_case(case, *, by, note=None)                                  # close a sent case unrated
    merge_cases(duplicate, into, *, by)                                 # fold a duplicate
    overdue_query(today=None) -> Select[Case]                           # 超期 (main deadline passed)
    find_by_receipt(code) -> Case | None                                # follows merges; None if malformed
    can_manage(user, case) -> bool                                      # staff/admin; liaison of the station

``by`` is the acting ``User`` (None: the anonymous public or the system). Staff and admin manage every
case; a liaison manages the cases of their own station; a unit user acts only on assignments of their
unit (``user.unit_id``); a deputy rates only the cases they raised (``case.deputy_id``).
"""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Select, String, Text, UniqueConstraint, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from . import audit
from .errors import Conflict, DomainError, Forbidden, clean_text, register_constraint_messages
from .extensions import db
from .timeutil import UTCDateTime, local_today, to_local, utcnow
from .transaction import transactional

SOURCES = {"reception": "接待来访", "message": "网上留言", "kiosk": "站内留言", "deputy": "代表反映(社情民意)",
           "suggestion": "代表建议"}
# What constituents themselves raised (群众诉求): not deputies' suggestions or 社情民意.
CONSTITUENT_SOURCES = ("reception", "message", "kiosk")
STATUSES = {"new": "待交办", "assigned": "办理中", "answered": "已答复", "sent": "已反馈", "closed": "已办结",
            "merged": "已合并"}
RATINGS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
RATERS = {"constituent": "群众", "deputy": "代表", "staff": "工作人员代评"}
ASSIGNMENT_ROLES = {"main": "主办", "assist": "协办"}
ASSIGNMENT_STATES = {"pending": "办理中", "replied": "已答复", "declined": "已退回", "withdrawn": "已撤回"}
REPLY_CLASSES = {"A": "已经解决", "B": "正在解决", "C": "暂时无法解决"}


def reply_class_text(code: str | None, labels: dict | None = None) -> str:
    """An answer class in plain words, never a bare letter: "B类（正在解决）". ``labels`` lets an area
    give its own wording (suggestions: "正在解决（列入计划）" → "B类（正在解决，列入计划）")."""
    if not code:
        return ""
    label = (labels or REPLY_CLASSES).get(code, "")
    label = label.replace("（", "，").replace("）", "")
    return f"{code}类（{label}）" if label else f"{code}类"
ACTIONS = {
    "open": "登记", "sort": "梳理", "assign": "交办", "extension_request": "申请延期",
    "extension_approve": "同意延期", "extension_refuse": "不同意延期", "decline": "退回",
    "reply": "答复", "send": "反馈群众", "rate": "评价", "reopen": "重新交办", "close": "办结",
    "merge": "合并", "merged_from": "并入重复件",
}

# No 0/O/1/I: a code read aloud or copied from a slip cannot be mistyped into another one.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 8
RECEIPT_RE = re.compile(f"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$")
MAX_TITLE = 120
MAX_BODY = 5_000
MAX_NOTE = 2_000
MAX_ROUNDS = 2


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")  # a number an SMS can reach


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalize_receipt(code: str | None) -> str | None:
    """Upper-case, spaces and dashes dropped; None when it cannot be a receipt code."""
    code = re.sub(r"[\s-]", "", code or "").upper()
    return code if RECEIPT_RE.match(code) else None


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(f"round >= 1 AND round <= {MAX_ROUNDS}", name="round"),
        CheckConstraint("(status = 'merged') = (merged_into_id IS NOT NULL)", name="merged"),
        UniqueConstraint("receipt_code"),
        Index("ix_cases_station_created", "station_id", "created_at"),
        Index("ix_cases_status_created", "status", "created_at"),
        Index("ix_cases_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    category: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    receipt_code: Mapped[str] = mapped_column(String(8), default=new_receipt_code)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id", ondelete="RESTRICT"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(32))  # private
    contact_phone: Mapped[str | None] = mapped_column(String(20))  # private
    # 同意接收短信通知: the answer's SMS (receipt code and tracking address) goes to contact_phone
    sms_consent: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    round: Mapped[int] = mapped_column(default=1)
    answer: Mapped[str | None] = mapped_column(Text)  # what the constituent reads when tracking
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the main unit's latest reply
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    station = relationship("Station")
    deputy = relationship("Deputy")
    created_by = relationship("User")
    merged_into: Mapped[Case | None] = relationship(remote_side="Case.id")
    assignments: Mapped[list[CaseAssignment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseAssignment.id")
    ratings: Mapped[list[CaseRating]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRating.round")
    steps: Mapped[list[CaseStep]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseStep.id")

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    @property
    def main_assignment(self) -> CaseAssignment | None:
        """The current round's main assignment that is still pending or replied."""
        for item in reversed(self.assignments):
            if item.role == "main" and item.round == self.round and item.state in ("pending", "replied"):
                return item
        return None

    @property
    def deadline(self) -> date | None:
        main = self.main_assignment
        return main.deadline if main else None

    def is_overdue(self, today: date | None = None) -> bool:
        main = self.main_assignment
        return bool(self.status == "assigned" and main and main.state == "pending"
                    and main.deadline < (today or local_today()))

    @property
    def rating(self) -> CaseRating | None:
        return self.ratings[-1] if self.ratings else None

    def __str__(self) -> str:
        return self.title


class CaseAssignment(db.Model):
    __tablename__ = "case_assignments"
    __table_args__ = (
        CheckConstraint(_in("role", ASSIGNMENT_ROLES), name="role"),
        CheckConstraint(_in("state", ASSIGNMENT_STATES), name="state"),
        CheckConstraint("reply_class IS NULL OR " + _in("reply_class", REPLY_CLASSES), name="reply_class"),
        CheckConstraint("(state = 'replied') = (replied_at IS NOT NULL)", name="replied"),
        CheckConstraint("(extension_until IS NULL) = (extension_reason IS NULL)", name="extension"),
        Index("ix_case_assignments_unit_state", "unit_id", "state", "deadline"),
        Index("ix_case_assignments_state_deadline", "state", "role", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("handling_units.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(8), default="main")
    round: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    deadline: Mapped[date]
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reply: Mapped[str | None] = mapped_column(Text)
    reply_class: Mapped[str | None] = mapped_column(String(1))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    extension_until: Mapped[date | None]  # an open request, waiting for staff
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended: Mapped[bool] = mapped_column(default=False)

    case: Mapped[Case] = relationship(back_populates="assignments")
    unit = relationship("HandlingUnit")
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])
    replied_by = relationship("User", foreign_keys=[replied_by_id])

    @property
    def role_label(self) -> str:
        return ASSIGNMENT_ROLES.get(self.role, self.role)

    @property
    def state_label(self) -> str:
        return ASSIGNMENT_STATES.get(self.state, self.state)

    @property
    def on_time(self) -> bool | None:
        """Replied by the deadline (local date); None while not replied."""
        if self.replied_at is None:
            return None
        return to_local(self.replied_at).date() <= self.deadline


class CaseRating(db.Model):
    __tablename__ = "case_ratings"
    __table_args__ = (
        UniqueConstraint("case_id", "round"),  # rating twice is refused by the database too
        CheckConstraint(_in("rating", RATINGS), name="rating"),
        CheckConstraint(_in("rater", RATERS), name="rater"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    round: Mapped[int]
    rating: Mapped[str] = mapped_column(String(16))
    rater: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="ratings")

    @property
    def label(self) -> str:
        return RATINGS.get(self.rating, self.rating)


class CaseStep(db.Model):
    """The case's history. Names are copied so the log reads the same after accounts change."""

    __tablename__ = "case_steps"
    __table_args__ = (Index("ix_case_steps_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("handling_units.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="steps")
    unit = relationship("HandlingUnit")

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


class CaseForbidden(Forbidden):
    """The user may not act on this case: views answer 403."""


register_constraint_messages({
    # Two ratings of one round arriving at the same instant: the second is told, not shown an error.
    "uq_case_ratings_case_id_round": (_l("此件已评价过，不能重复评价。"), "rating"),
    # Receipt codes are checked before use; two identical new codes at the same instant are refused.
    "uq_cases_receipt_code": _l("生成回执码时发生冲突，未保存，请重新提交。"),
})


# ---- helpers ---------------------------------------------------------------------------------

def backdate_case(case: Case, by: timedelta) -> None:
    """The demo's "assigned a month ago": the case's history up to its main assignment (opened, sorted,
    assigned) moved ``by`` earlier, so no step comes before the one it follows."""
    assigned = case.main_assignment.assigned_at
    # The assignment's own step is stamped a moment after its rows: it goes along.
    until = min((s.at for s in case.steps if s.action == "assign" and s.at >= assigned), default=assigned)
    for step in case.steps:
        if step.at <= until:
            step.at -= by
    for assignment in case.assignments:
        if assignment.assigned_at <= assigned:
            assignment.assigned_at -= by
    for name in ("created_at", "updated_at"):
        if getattr(case, name) <= assigned:
            setattr(case, name, getattr(case, name) - by)


def can_manage(user, case: Case) -> bool:
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.has_role("staff"):
        return True
    return user.role == "liaison" and case.station_id is not None and case.station_id == user.station_id


def _require_manager(user, case: Case) -> None:
    if not can_manage(user, case):
        raise CaseForbidden(_("您无权处理此件。"))


def _step(case: Case, action: str, by, note: str | None = None, unit=None) -> CaseStep:
    step = CaseStep(case=case, action=action, actor_id=by.id if by else None,
                    actor_name=(by.display_name if by else _("公众")), unit_id=unit.id if unit else None,
                    note=note)
    db.session.add(step)
    if by is not None:  # the public's own actions are on the step log, the audit log is for staff
        audit.record(f"case_{action}", "case", case.id, f"{ACTIONS.get(action, action)}：{case.title}"[:255],
                     actor=by, note=note)
    return step


def _require_status(case: Case, *statuses: str) -> None:
    if case.status not in statuses:
        raise Conflict(_("此件当前状态为“%(s)s”，不能进行此操作。", s=case.status_label), field="status")


def _unit_assignment(case: Case, by, *, role: str | None = None) -> CaseAssignment:
    """The pending assignment of the user's unit in the current round, else 403."""
    unit_id = getattr(by, "unit_id", None) if by is not None and by.role == "unit" else None
    for item in case.assignments:
        if (unit_id is not None and item.unit_id == unit_id and item.round == case.round
                and item.state == "pending" and (role is None or item.role == role)):
            return item
    raise CaseForbidden(_("此件未交办给您的单位，不能办理。"))


# ---- operations ------------------------------------------------------------------------------

@transactional
def open_case(source: str, title: str, body: str, *, by=None, category: str | None = None, station=None,
              deputy=None, contact_name: str | None = None, contact_phone: str | None = None,
              source_ref: str | None = None, sms_consent: bool = False) -> Case:
    """收集: register a new item; it gets a fresh receipt code. ``sms_consent``: the constituent agreed to
    an SMS at ``contact_phone`` when the answer is sent (a mobile number is then required)."""
    if source not in SOURCES:
        raise DomainError(_("来源不正确。"), field="source")
    title = clean_text(title, _("标题"), MAX_TITLE, "title")
    body = clean_text(body, _("内容"), MAX_BODY, "body")
    contact_name = clean_text(contact_name, _("姓名"), 32, "contact_name", required=False)
    contact_phone = clean_text(contact_phone, _("电话"), 20, "contact_phone", required=False)
    if sms_consent and not (contact_phone and MOBILE_RE.match(contact_phone)):
        raise DomainError(_("接收短信通知需要填写 11 位手机号码。"), field="phone")
    code = new_receipt_code()
    while db.session.scalar(select(Case.id).where(Case.receipt_code == code)) is not None:
        code = new_receipt_code()  # 32^8 codes: a clash is rare, and the UNIQUE constraint has the last word
    case = Case(source=source, title=title, body=body, category=category, station=station, deputy=deputy,
                contact_name=contact_name, contact_phone=contact_phone, source_ref=source_ref,
                receipt_code=code, created_by=by, status="new", round=1, sms_consent=bool(sms_consent))
    db.session.add(case)
    db.session.flush()
    _step(case, "open", by, note=SOURCES[source])
    return case


@transactional
def sort_case(case: Case, *, by, category: str | None = None, title: str | None = None) -> Case:
    """梳理: set the category (the caller validates it against its own list) or a clearer title."""
    _require_manager(by, case)
    _require_status(case, "new", "assigned")
    if title is not None:
        title = clean_text(title, _("标题"), MAX_TITLE, "title")
    changes = []
    if category is not None and category != case.category:
        changes.append(f"{case.category or '-'} → {category}")
        case.category = category
    if title is not None and title != case.title:
        changes.append(f"{case.title} → {title}")
        case.title = title
    if changes:
        _step(case, "sort", by, note="；".join(changes))
    return case


@transactional
def assign_case(case: Case, unit, deadline: date | None, *, by, assisting=(),
                note: str | None = None) -> CaseAssignment:
    """交办: hand the case to a main unit (and optional assisting units) with a deadline (a local date,
    today or later)."""
    _require_manager(by, case)
    _require_status(case, "new")
    if unit is None:
        raise DomainError(_("请选择承办单位。"), field="unit_id")
    if not getattr(unit, "active", True):
        raise DomainError(_("该承办单位已停用。"), field="unit_id")
    if deadline is None:
        raise DomainError(_("请填写办理期限。"), field="deadline")
    if deadline < local_today():
        raise DomainError(_("办理期限不能早于今天。"), field="deadline")
    assisting = [u for u in assisting if u is not None and u.id != unit.id]
    note = clean_text(note, _("交办意见"), MAX_NOTE, "note", required=False)
    now = utcnow()
    main = CaseAssignment(case=case, unit=unit, role="main", round=case.round, deadline=deadline,
                          assigned_at=now, assigned_by_id=by.id, state="pending")
    db.session.add(main)
    for extra in {u.id: u for u in assisting}.values():
        db.session.add(CaseAssignment(case=case, unit=extra, role="assist", round=case.round, deadline=deadline,
                                      assigned_at=now, assigned_by_id=by.id, state="pending"))
    case.status = "assigned"
    names = "、".join([unit.name, *(u.name for u in assisting)])
    _step(case, "assign", by, unit=unit,
          note=_("交办%(units)s，期限 %(d)s", units=names, d=deadline.isoformat()) + (f"；{note}" if note else ""))
    return main


@transactional
def request_extension(case: Case, until: date | None, reason: str, *, by) -> CaseAssignment:
    """The main unit asks for a later deadline; staff decide."""
    item = _unit_assignment(case, by, role="main")
    _require_status(case, "assigned")
    if item.extension_until is not None:
        raise DomainError(_("已有一项延期申请等待审批。"), field="until")
    if until is None or until <= item.deadline:
        raise DomainError(_("延期后的期限必须晚于原期限（%(d)s）。", d=item.deadline.isoformat()), field="until")
    reason = clean_text(reason, _("延期理由"), MAX_NOTE, "reason")
    item.extension_until, item.extension_reason = until, reason
    _step(case, "extension_request", by, unit=item.unit, note=f"{until.isoformat()}：{reason}")
    return item


@transactional
def decide_extension(case: Case, approve: bool, *, by, note: str | None = None) -> CaseAssignment:
    _require_manager(by, case)
    item = case.main_assignment
    if item is None or item.extension_until is None:
        raise DomainError(_("此件没有待审批的延期申请。"))
    note = clean_text(note, _("审批意见"), MAX_NOTE, "note", required=False)
    until = item.extension_until
    if approve:
        item.deadline, item.extended = until, True
        for other in case.assignments:  # assisting units follow the main unit's deadline
            if other.round == case.round and other.role == "assist" and other.state == "pending":
                other.deadline = until
    item.extension_until = item.extension_reason = None
    _step(case, "extension_approve" if approve else "extension_refuse", by, unit=item.unit,
          note=until.isoformat() + (f"；{note}" if note else ""))
    return item


@transactional
def decline_case(case: Case, reason: str, *, by) -> CaseAssignment:
    """The main unit says the case is not theirs: it goes back to 待交办 for staff to reassign."""
    item = _unit_assignment(case, by, role="main")
    _require_status(case, "assigned")
    reason = clean_text(reason, _("退回理由"), MAX_NOTE, "reason")
    item.state, item.decline_reason = "declined", reason
    item.extension_until = item.extension_reason = None
    for other in case.assignments:
        if other.round == case.round and other.role == "assist" and other.state == "pending":
            other.state = "withdrawn"
    case.status = "new"
    _step(case, "decline", by, unit=item.unit, note=reason)
    return item


@transactional
def reply_case(case: Case, text: str, *, by, reply_class: str | None = None) -> CaseAssignment:
    """答复: only a unit the case is assigned to (CaseForbidden otherwise). The main unit's reply moves
    the case to 已答复; an assisting unit's reply is recorded for the main unit and staff."""
    item = _unit_assignment(case, by)
    _require_status(case, "assigned")
    text = clean_text(text, _("答复内容"), MAX_BODY, "text")
    if reply_class is not None and reply_class not in REPLY_CLASSES:
        raise DomainError(_("答复类别不正确。"), field="reply_class")
    now = utcnow()
    item.state, item.reply, item.reply_class = "replied", text, reply_class
    item.replied_at, item.replied_by_id = now, by.id
    item.extension_until = item.extension_reason = None
    if item.role == "main":
        case.status, case.answered_at = "answered", now
    _step(case, "reply", by, unit=item.unit, note=text[:500])
    return item


@transactional
def forward_reply(case: Case, *, by, note: str | None = None) -> Case:
    """反馈 by the main unit itself: where its reply letter goes straight to the one who raised the case
    (a deputy's suggestion), the case is 已反馈 with that reply as soon as the main unit has replied."""
    _require_status(case, "answered")
    main = case.main_assignment
    unit_id = getattr(by, "unit_id", None) if by is not None and by.role == "unit" else None
    if main is None or main.state != "replied" or unit_id is None or main.unit_id != unit_id:
        raise CaseForbidden(_("只有已答复此件的主办单位可以直接反馈。"))
    case.answer, case.sent_at, case.status = main.reply, utcnow(), "sent"
    _step(case, "send", by, unit=main.unit, note=note)
    return case


@transactional
def send_answer(case: Case, *, by, text: str | None = None) -> Case:
    """反馈: the answer goes back to the constituent (shown when they track their receipt code). By
    default the main unit's reply; staff may edit it into plain words."""
    _require_manager(by, case)
    _require_status(case, "answered")
    main = case.main_assignment
    text = clean_text(text if text is not None else (main.reply if main else ""), _("反馈内容"), MAX_BODY, "text")
    case.answer, case.sent_at, case.status = text, utcnow(), "sent"
    _step(case, "send", by, note=text[:500])
    return case


@transactional
def rate_case(case: Case, rating: str, *, by=None, rater: str = "constituent", note: str | None = None) -> CaseRating:
    """评价, once per round. 不满意 in round 1 reopens the case (round 2, back to 待交办); otherwise the
    case is closed."""
    if rating not in RATINGS:
        raise DomainError(_("请选择评价：满意、基本满意或不满意。"), field="rating")
    if rater not in RATERS:
        raise DomainError(_("评价人不正确。"), field="rater")
    if rater == "deputy" and (by is None or by.deputy_id is None or by.deputy_id != case.deputy_id):
        raise CaseForbidden(_("只有反映此件的代表可以评价。"))
    if rater == "staff":
        _require_manager(by, case)
    if any(r.round == case.round for r in case.ratings):
        raise Conflict(_("此件已评价过，不能重复评价。"), field="rating")
    _require_status(case, "sent")
    note = clean_text(note, _("评价意见"), MAX_NOTE, "note", required=False)
    now = utcnow()
    item = CaseRating(case=case, round=case.round, rating=rating, rater=rater, note=note,
                      rated_by_id=by.id if by else None, rated_at=now)
    db.session.add(item)
    _step(case, "rate", by, note=RATINGS[rating] + (f"：{note}" if note else ""))
    if rating == "unsatisfied" and case.round < MAX_ROUNDS:
        case.round += 1
        case.status = "new"
        _step(case, "reopen", by, note=_("群众不满意，进入第二次办理。"))
    else:
        case.status, case.closed_at = "closed", now
        _step(case, "close", by)
    return item


@transactional
def reopen_case(case: Case, *, by, note: str) -> Case:
    """A closed case sent to its second round by a later finding (a follow-up visit found the problem
    unsolved): back to 待交办 in round 2, at most MAX_ROUNDS rounds."""
    _require_manager(by, case)
    _require_status(case, "closed")
    if case.round >= MAX_ROUNDS:
        raise Conflict(_("此件已经二次办理过，不能再次交办。"), field="round")
    case.round += 1
    case.status, case.closed_at = "new", None
    _step(case, "reopen", by, note=note[:500])
    return case


@transactional
def close_case(case: Case, *, by, note: str | None = None) -> Case:
    """Close an answered case that nobody rated (the constituent could not be reached)."""
    _require_manager(by, case)
    _require_status(case, "sent")
    note = clean_text(note, _("办结说明"), MAX_NOTE, "note", required=False)
    case.status, case.closed_at = "closed", utcnow()
    _step(case, "close", by, note=note)
    return case


@transactional
def merge_cases(duplicate: Case, into: Case, *, by) -> Case:
    """Fold a duplicate into another open case; its receipt code then tracks the other case."""
    _require_manager(by, duplicate)
    _require_manager(by, into)
    if duplicate.id == into.id:
        raise DomainError(_("不能与自身合并。"), field="into")
    _require_status(duplicate, "new", "assigned")
    if into.status in ("merged", "closed"):
        raise DomainError(_("只能并入未办结的件。"), field="into")
    for item in duplicate.assignments:
        if item.state == "pending":
            item.state = "withdrawn"
            item.extension_until = item.extension_reason = None
    duplicate.status, duplicate.merged_into = "merged", into
    _step(duplicate, "merge", by, note=_("并入第 %(id)d 号", id=into.id))
    _step(into, "merged_from", by, note=_("第 %(id)d 号并入：%(t)s", id=duplicate.id, t=duplicate.title))
    return into


def overdue_query(today: date | None = None) -> Select:
    """Cases whose main unit has not replied by the deadline (oldest deadline first)."""
    today = today or local_today()
    late = (select(CaseAssignment.case_id).where(CaseAssignment.state == "pending", CaseAssignment.role == "main",
                                                 CaseAssignment.deadline < today))
    return (select(Case).where(Case.status == "assigned", Case.id.in_(late))
            .options(selectinload(Case.assignments)).order_by(Case.id))


def find_by_receipt(code: str | None) -> Case | None:
    """The case behind a receipt code, following merges. None for a malformed or unknown code alike."""
    code = normalize_receipt(code)
    if code is None:
        return None
    case = db.session.scalar(select(Case).where(Case.receipt_code == code))
    seen = set()
    while case is not None and case.merged_into_id is not None and case.id not in seen:
        seen.add(case.id)
        case = case.merged_into
    return case
