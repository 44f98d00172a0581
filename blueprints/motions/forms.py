from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..core.forms import FlaskForm
from .models import DECISIONS, REVIEW_BODIES, REVIEW_DECISIONS

# Presence is checked by the services (one Chinese message per rule); the forms check lengths and types.


class MotionForm(FlaskForm):
    session_id = SelectField(_l("所属会议"), coerce=int)
    title = StringField(_l("案由"), validators=[Length(max=120, message=_l("案由不能超过 %(max)d 个字符。"))])
    delegation = StringField(_l("以代表团名义提出（代表团名称，可不填）"), validators=[Length(max=64)])
    grounds = TextAreaField(_l("理由"), render_kw={"rows": 8}, validators=[Length(max=10000)])
    proposal = TextAreaField(_l("办法（或法规草案要点）"), render_kw={"rows": 8}, validators=[Length(max=10000)])


class InviteForm(FlaskForm):
    deputies = StringField(_l("邀请联名代表（代表编号或姓名，用逗号或空格分开）"), validators=[Length(max=2000)])


class SignForm(FlaskForm):
    accept = RadioField(_l("联名"), choices=[("1", _l("同意联名")), ("0", _l("谢绝"))], default="1")


class ReviewForm(FlaskForm):
    reviewed_on = DateField(_l("审查日期"), validators=[Optional()])
    body = SelectField(_l("审查机构"), choices=[("", _l("请选择"))] + list(REVIEW_BODIES.items()))
    decision = RadioField(_l("审查意见"), choices=list(REVIEW_DECISIONS.items()), validators=[Optional()])
    reasons = TextAreaField(_l("审查理由"), render_kw={"rows": 3}, validators=[Length(max=2000)])


class DecideForm(FlaskForm):
    decision = SelectField(_l("审议结果"), choices=[("", _l("请选择"))] + list(DECISIONS.items()))
    decided_on = DateField(_l("日期"), validators=[Optional()])
    note = TextAreaField(_l("说明"), render_kw={"rows": 2}, validators=[Length(max=2000)])
