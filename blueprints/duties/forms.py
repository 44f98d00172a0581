from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.forms import FlaskForm
from .models import ACTIVITY_TYPES, ASSESSMENT_CHOICES

_date_required = DataRequired(_l("请填写日期（年-月-日）。"))


class ActivityForm(FlaskForm):
    type_code = SelectField(_l("活动类型"), choices=list(ACTIVITY_TYPES.items()))
    occurred_on = DateField(_l("活动日期"), validators=[_date_required])
    title = StringField(_l("活动名称"), validators=[DataRequired(_l("请填写活动名称。")),
                                                    Length(max=120, message=_l("活动名称不能超过 %(max)d 个字。"))])
    place = StringField(_l("地点"), validators=[Optional(), Length(max=128, message=_l("地点不能超过 %(max)d 个字。"))])
    duration_hours = DecimalField(_l("时长（小时）"), places=1, validators=[Optional()],
                                  render_kw={"inputmode": "decimal", "step": "0.5"})
    description = TextAreaField(_l("简要情况"), render_kw={"rows": 4}, validators=[
        Length(max=2000, message=_l("简要情况不能超过 %(max)d 个字。"))])
    files = MultipleFileField(_l("照片或材料（可选）"), render_kw={"accept": "image/jpeg,image/png,application/pdf"})
    nonce = HiddenField()
    kept = HiddenField()  # the token of attachments kept from a refused submit (duties/provisional.py)

    def values(self) -> dict:
        hours = self.duration_hours.data
        return {"type_code": self.type_code.data, "occurred_on": self.occurred_on.data, "title": self.title.data,
                "place": self.place.data, "description": self.description.data,
                "duration_minutes": int(round(hours * 60)) if hours is not None else None}


class CorrectionForm(ActivityForm):
    reason = StringField(_l("更正原因"), validators=[DataRequired(_l("请写明更正原因。")), Length(max=255)])


class ReturnForm(FlaskForm):
    reason = StringField(_l("退回原因"), validators=[DataRequired(_l("退回时请写明原因。")),
                                                     Length(max=255, message=_l("退回原因不能超过 %(max)d 个字。"))])


class AbsenceForm(FlaskForm):
    occurred_on = DateField(_l("缺席日期"), validators=[_date_required])
    note = StringField(_l("说明"), validators=[Optional(), Length(max=255)])


class ReminderForm(FlaskForm):
    deputy_id = HiddenField()
    held_on = DateField(_l("谈话日期"), validators=[_date_required])
    note = StringField(_l("谈话情况"), validators=[DataRequired(_l("请简要记录谈话提醒的情况。")), Length(max=255)])


class ReportForm(FlaskForm):
    scheduled_on = DateField(_l("述职日期"), validators=[_date_required])
    place = StringField(_l("述职地点"), validators=[DataRequired(_l("请填写述职地点。")), Length(max=128)])
    constituency = StringField(_l("选区/选举单位"), validators=[Optional(), Length(max=64)])


_count = [InputRequired(_l("请填写人数（没有填 0）。")),
          NumberRange(min=0, max=100000, message=_l("人数应为 0 或正整数。"))]


class MeetingForm(FlaskForm):
    attendance = IntegerField(_l("到会选民人数"), validators=_count)
    questions = TextAreaField(_l("选民询问的问题"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4})
    satisfied = IntegerField(_l("纸质测评：满意"), validators=_count)
    basic = IntegerField(_l("纸质测评：基本满意"), validators=_count)
    unsatisfied = IntegerField(_l("纸质测评：不满意"), validators=_count)


class AssessForm(FlaskForm):
    choice = RadioField(_l("您对代表履职情况的评价"), choices=list(ASSESSMENT_CHOICES.items()),
                        validators=[InputRequired(_l("请选择满意、基本满意或不满意。"))])


class TermForm(FlaskForm):
    level = SelectField(_l("代表层级"))
    name = StringField(_l("届次"), validators=[DataRequired(_l("请填写届次，例如 第十八届。")), Length(max=32)])
    starts_on = DateField(_l("本届开始日期"), validators=[_date_required])
    ends_on = DateField(_l("本届结束日期（可选）"), validators=[Optional()])


def rules_form_class(type_codes):
    """A form with a points and a cap field per activity type, built once per request."""

    class RulesForm(FlaskForm):
        absence_deduction = StringField(_l("未请假缺席人代会每次扣分"))
        min_standing_committee = IntegerField(_l("届内至少列席常委会会议（次）"), validators=[Optional()])
        min_survey = IntegerField(_l("届内至少参加调研（次）"), validators=[Optional()])
        min_inspection = IntegerField(_l("届内至少参加视察（次）"), validators=[Optional()])

    for code in type_codes:
        setattr(RulesForm, f"points_{code}", StringField(ACTIVITY_TYPES[code]))
        setattr(RulesForm, f"cap_{code}", StringField(_l("年度上限")))
    return RulesForm
