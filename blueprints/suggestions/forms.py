from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.cases import reply_class_text
from ..core.forms import FlaskForm
from ..core.versioning import version_field
from .models import CATEGORIES, CONTACT_STAGES, CONTACT_WAYS, RATINGS, REPLY_CLASSES

# Presence is checked by the services (one Chinese message per rule, the same for forms and tests);
# the forms check only lengths and types.


class SuggestionForm(FlaskForm):
    row_version = version_field()  # the version this form showed (core.versioning)
    session_id = SelectField(_l("所属会议"), coerce=int)
    title = StringField(_l("案由"), validators=[Length(max=120, message=_l("案由不能超过 %(max)d 个字符。"))])
    category = SelectField(_l("类别"), choices=list(CATEGORIES.items()), default="other")
    grounds = TextAreaField(_l("案据（问题和理由）"), render_kw={"rows": 8},
                            validators=[Length(max=10000, message=_l("案据不能超过 %(max)d 个字符。"))])
    proposal = TextAreaField(_l("方案（具体建议）"), render_kw={"rows": 8},
                             validators=[Length(max=10000, message=_l("方案不能超过 %(max)d 个字符。"))])
    note = TextAreaField(_l("修订说明"), render_kw={"rows": 2},
                         validators=[Length(max=2000, message=_l("修订说明不能超过 %(max)d 个字符。"))])


class InviteForm(FlaskForm):
    deputies = StringField(_l("邀请附议代表"), validators=[Length(max=1000)])


class ReviewForm(FlaskForm):
    decision = RadioField(_l("预审意见"), choices=[("pass", _l("通过")), ("return", _l("退回修改"))],
                          validators=[InputRequired(_l("请选择预审意见：通过或退回修改。"))])
    comment = TextAreaField(_l("意见"), render_kw={"rows": 3}, validators=[Length(max=2000)])


class RegisterForm(FlaskForm):
    number = IntegerField(_l("编号（留空则自动顺延）"), validators=[
        Optional(), NumberRange(min=1, max=99999, message=_l("编号必须是正整数。"))])
    category = SelectField(_l("类别"), choices=list(CATEGORIES.items()))


class AssignForm(FlaskForm):
    unit_id = SelectField(_l("主办单位"), coerce=int)
    assisting = SelectMultipleField(_l("协办单位（可多选）"), coerce=int, render_kw={"size": 5})
    deadline = DateField(_l("办理期限（默认三个月，最长六个月）"), validators=[Optional()])
    note = TextAreaField(_l("交办意见"), render_kw={"rows": 2}, validators=[Length(max=2000)])


class BulkAssignForm(FlaskForm):
    deadline = DateField(_l("统一办理期限（默认三个月，最长六个月）"), validators=[Optional()])
    note = TextAreaField(_l("交办意见"), render_kw={"rows": 2}, validators=[Length(max=2000)])


class ContactForm(FlaskForm):
    stage = SelectField(_l("沟通阶段"), choices=list(CONTACT_STAGES.items()))
    way = SelectField(_l("沟通方式"), choices=list(CONTACT_WAYS.items()))
    contacted_on = DateField(_l("沟通日期"), validators=[Optional()])
    content = TextAreaField(_l("沟通内容"), render_kw={"rows": 3}, validators=[Length(max=2000)])


class ExtensionForm(FlaskForm):
    until = DateField(_l("申请延期至"), validators=[Optional()])
    reason = TextAreaField(_l("延期理由"), render_kw={"rows": 2}, validators=[Length(max=2000)])


class DecideExtensionForm(FlaskForm):
    approve = RadioField(_l("审批"), choices=[("yes", _l("同意延期")), ("no", _l("不同意"))],
                         validators=[InputRequired(_l("请选择是否同意延期。"))])
    note = StringField(_l("审批意见"), validators=[Length(max=2000)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("退回理由"), render_kw={"rows": 2}, validators=[Length(max=2000)])


class ReplyForm(FlaskForm):
    reply_class = RadioField(_l("答复类别"), choices=[(k, reply_class_text(k, REPLY_CLASSES)) for k in REPLY_CLASSES],
                             validators=[Optional()])
    text = TextAreaField(_l("答复内容"), render_kw={"rows": 8}, validators=[Length(max=10000)])
    reasons = TextAreaField(_l("暂时无法解决的原因（C 类必填）"), render_kw={"rows": 3},
                            validators=[Length(max=2000)])
    promised_on = DateField(_l("承诺解决日期（B 类必填）"), validators=[Optional()])
    letter = FileField(_l("答复函（PDF 或图片，5 MB 以内，可选）"))


class RateForm(FlaskForm):
    rating = RadioField(_l("评价"), choices=list(RATINGS.items()), validators=[Optional()])
    note = TextAreaField(_l("评价意见（不满意时必填）"), render_kw={"rows": 3}, validators=[Length(max=2000)])


class KeyForm(FlaskForm):
    key_leader = SelectField(_l("牵头督办领导（常委会组成人员账号）"), coerce=int, default=0)


class ReasonForm(FlaskForm):
    reason = StringField(_l("理由"), validators=[Length(max=255)])


class CompleteForm(FlaskForm):
    note = TextAreaField(_l("落实情况"), render_kw={"rows": 2}, validators=[Length(max=2000)])


class SessionForm(FlaskForm):
    name = StringField(_l("会议名称"), validators=[Length(max=64)])
    year = IntegerField(_l("年度"), validators=[Optional()])
    opens_on = DateField(_l("开幕日期"), validators=[Optional()])
    closes_on = DateField(_l("闭幕日期"), validators=[Optional()])


class CarryOverForm(FlaskForm):
    year = IntegerField(_l("转入年度"), validators=[Optional()])
