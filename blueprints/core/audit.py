"""The audit log: who changed what, when, old → new. Rows are only ever appended."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context
from flask_login import current_user

from .extensions import db
from .models import AuditEntry, User


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj, fields: tuple[str, ...]) -> dict:
    return {field: _plain(getattr(obj, field)) for field in fields}


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def record(action: str, obj_type: str, obj_id: int | None, summary: str,
           changes: dict | None = None, actor: User | None = None, note: str | None = None) -> AuditEntry:
    """Add an audit row to the current unit of work (it commits with the change it records)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system",
        action=action,
        object_type=obj_type,
        object_id=obj_id,
        summary=summary[:255],
        changes=changes or None,
        note=note,
    )
    db.session.add(entry)
    return entry


ACTION_LABELS = {
    "create": "新建",
    # suggestions (blueprints/suggestions)
    "submit": "提交",
    "review": "预审",
    "register": "立案",
    "contact": "三沟通",
    "carry_over": "跨年连办",
    "complete": "确认落实",
    "update": "修改",
    "end": "终止",
    "import": "导入",
    "role": "变更角色",
    "disable": "停用",
    "enable": "启用",
    "password": "重置密码",
    "issue": "批量开通账号",
    "pass_issue": "发放签到证",
    "pass_revoke": "收回签到证",
    "delete": "删除",
    "publish": "发布",
    "take_down": "撤下",
    "generate": "生成",
    "served": "确认值班到岗",
    # the shared case workflow (core/cases.py)
    "case_open": "登记事项",
    "case_sort": "梳理事项",
    "case_assign": "交办",
    "case_extension_request": "申请延期",
    "case_extension_approve": "同意延期",
    "case_extension_refuse": "不同意延期",
    "case_decline": "退回交办",
    "case_reply": "答复",
    "case_send": "反馈群众",
    "case_rate": "评价",
    "case_reopen": "重新交办",
    "case_close": "办结",
    "case_merge": "合并重复件",
    "case_merged_from": "并入重复件",
    "verify": "核实通过",
    "return": "退回",
    "correct": "更正",
    "export": "导出",
    "check_in": "签到",
    "open": "开始表决",
    "close": "截止表决",
    "paper_voter": "纸质投票登记",
    "paper_count": "录入纸质票",
    "paper_correct": "更正纸质票",
    "screen": "审查",
    "progress": "填报进度",
    "link_inspection": "关联代表视察",
}
OBJECT_LABELS = {
    "deputy": "代表",
    "suggestion": "代表建议",
    "congress_session": "人代会会议",
    "group": "代表小组",
    "station": "联络站",
    "unit": "承办单位",
    "area": "行政区划",
    "user": "账号",
    "roster": "代表名册",
    "notice": "公示",
    "case": "群众诉求/事项",
    "reception_rule": "接待日规则",
    "reception_day": "接待日",
    "duty": "值班安排",
    "reception": "接待记录",
    "activity": "履职活动",
    "scoring_year": "履职计分规则",
    "absence": "缺席记录",
    "reminder": "谈话提醒",
    "voter_report": "述职评议",
    "term": "届次任期",
    "archive": "履职档案",
    "evaluation": "履职评价",
    "meeting": "会议",
    "ballot": "表决",
    "proposal_call": "项目征集",
    "proposal": "候选项目建议",
    "project": "民生实事项目",
}
