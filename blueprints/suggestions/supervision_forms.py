"""Forms of 督 and 评 (issue 19). Presence and the rules are checked by the services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from ..core.forms import FlaskForm
from .supervision_models import INTERVIEW_KINDS, SAMPLE_MODES, SUPERVISION_FORMS

YES_NO = [("", _l("（请选择）")), ("yes", _l("满意")), ("no", _l("不满意"))]


class SuperviseForm(FlaskForm):
    held_on = DateField(_l("督办日期"), validators=[Optional()])
    form = SelectField(_l("督办形式"), choices=list(SUPERVISION_FORMS.items()))
    participants = TextAreaField(_l("参加人员"), render_kw={"rows": 2}, validators=[Length(max=2000)])
    agreed = TextAreaField(_l("议定事项"), render_kw={"rows": 3}, validators=[Length(max=10000)])


class PlanForm(FlaskForm):
    summary = TextAreaField(_l("办理方案（一考）"), render_kw={"rows": 4}, validators=[Length(max=10000)])
    milestones = TextAreaField(_l("时间节点：每行一个，日期在前（如 2026-06-30 完成选址）"), render_kw={"rows": 4},
                               validators=[Length(max=5000)])


class ProgressForm(FlaskForm):
    milestone_id = SelectField(_l("时间节点"), coerce=int, default=0)
    text = TextAreaField(_l("进展情况（二考）"), render_kw={"rows": 3}, validators=[Length(max=2000)])
    done = BooleanField(_l("该节点已完成"))


class CarryAssignForm(FlaskForm):
    unit_id = SelectField(_l("主办单位"), coerce=int, default=0)
    deadline = DateField(_l("新的办理期限"), validators=[Optional()])


class CarryReportForm(FlaskForm):
    report = TextAreaField(_l("本年度办理情况"), render_kw={"rows": 3}, validators=[Length(max=10000)])


class LinkForm(FlaskForm):
    earlier_session = SelectField(_l("以往会议"), coerce=int, default=0)
    earlier_number = IntegerField(_l("建议编号"), validators=[Optional(), NumberRange(min=1, max=99999)])


class SampleForm(FlaskForm):
    session_id = SelectField(_l("会议"), coerce=int, default=0)
    mode = SelectField(_l("抽取方式"), choices=list(SAMPLE_MODES.items()), default="percent")
    value = IntegerField(_l("比例（%）或件数"), validators=[Optional(), NumberRange(min=0, max=100000)])
    seed = IntegerField(_l("随机种子（留空则随机生成；填写同一种子可重现抽样）"),
                        validators=[Optional(), NumberRange(min=0, max=2**31 - 1)])


class VisitForm(FlaskForm):
    visited_on = DateField(_l("回访日期"), validators=[Optional()])
    visitors = StringField(_l("回访人员"), validators=[Length(max=200)])
    findings = TextAreaField(_l("回访情况"), render_kw={"rows": 3}, validators=[Length(max=10000)])
    deputy_satisfied = SelectField(_l("代表是否满意"), choices=YES_NO)
    public_satisfied = SelectField(_l("群众是否满意"), choices=YES_NO)


class InterviewForm(FlaskForm):
    unit_id = SelectField(_l("承办单位"), coerce=int, default=0)
    session_id = SelectField(_l("会议（可选）"), coerce=int, default=0)
    kind = SelectField(_l("方式"), choices=list(INTERVIEW_KINDS.items()))
    held_on = DateField(_l("日期"), validators=[Optional()])
    head_name = StringField(_l("单位负责人"), validators=[Length(max=64)])
    content = TextAreaField(_l("约谈内容或要求说明的事项"), render_kw={"rows": 3}, validators=[Length(max=10000)])
    outcome = TextAreaField(_l("整改结果（可稍后填写）"), render_kw={"rows": 2}, validators=[Length(max=10000)])


class OutcomeForm(FlaskForm):
    outcome = TextAreaField(_l("整改结果"), render_kw={"rows": 2}, validators=[Length(max=10000)])


class WeightsForm(FlaskForm):
    w_on_time = IntegerField(_l("按时答复率"), validators=[Optional()])
    w_satisfied = IntegerField(_l("满意率"), validators=[Optional()])
    w_solved = IntegerField(_l("A 类（已解决）占比"), validators=[Optional()])
    w_ballot = IntegerField(_l("反向测评满意率"), validators=[Optional()])
    w_second = IntegerField(_l("二次交办率（扣分）"), validators=[Optional()])
    w_overdue = IntegerField(_l("超期率（扣分）"), validators=[Optional()])


class UnitBallotForm(FlaskForm):
    meeting_id = SelectField(_l("年终会议"), coerce=int, default=0)
    year = IntegerField(_l("年度"), validators=[Optional(), NumberRange(min=2000, max=2100)])
