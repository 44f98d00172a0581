from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from ..core.cases import RATINGS, REPLY_CLASSES, reply_class_text
from ..core.forms import FlaskForm
from ..core.pagination import MAX_ID
from .models import CATEGORIES, NTH_LABELS, RULE_KINDS, WEEKDAYS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RuleForm(FlaskForm):
    kind = RadioField(_l("接待日规则"), choices=list(RULE_KINDS.items()), default="month_days")
    month_days = StringField(_l("每月日期（如 5,25 或 10,20）"), validators=[Length(max=64)])
    nth = SelectField(_l("第几个"), choices=list(NTH_LABELS.items()), coerce=int, default=1)
    weekday = SelectField(_l("星期几"), choices=list(enumerate(WEEKDAYS)), coerce=int, default=1)
    start_time = TimeField(_l("开始时间"), validators=[DataRequired(_l("请填写开始时间。"))])
    end_time = TimeField(_l("结束时间"), validators=[DataRequired(_l("请填写结束时间。"))])
    deputies_per_day = IntegerField(_l("每天值班代表人数"), default=2,
                                    validators=[NumberRange(1, 10, _l("每天值班代表人数应在 1–10 之间。"))])


class GenerateForm(FlaskForm):
    year = IntegerField(_l("年份"), validators=[NumberRange(2000, 2100, _l("年份不正确。"))])


class ThemedDayForm(FlaskForm):
    day = DateField(_l("日期"), validators=[DataRequired(_l("请填写日期。"))])
    start_time = TimeField(_l("开始时间"), validators=[DataRequired(_l("请填写开始时间。"))])
    end_time = TimeField(_l("结束时间"), validators=[DataRequired(_l("请填写结束时间。"))])
    theme = StringField(_l("接待主题（如 局长进站、法官进站）"), validators=[Length(max=64)])
    invited = StringField(_l("邀请人员"), validators=[Length(max=255)])
    note = StringField(_l("公开说明（可选）"), validators=[Length(max=255)])


class MoveDayForm(FlaskForm):
    day = DateField(_l("调整到"), validators=[DataRequired(_l("请填写日期。"))])
    note = StringField(_l("公开说明"), validators=[Length(max=255)])


class CancelDayForm(FlaskForm):
    note = StringField(_l("取消原因（公开）"), validators=[Length(max=255)])


class DutyForm(FlaskForm):
    deputy_ids = MultiCheckboxField(_l("值班代表"), coerce=int)


class ReceptionForm(FlaskForm):
    category = SelectField(_l("问题类别"), choices=[("", _l("请选择"))] + list(CATEGORIES.items()))
    summary = TextAreaField(_l("反映内容"), render_kw={"rows": 5})
    deputy_ids = MultiCheckboxField(_l("接待代表"), coerce=int, render_kw={"class": "check-list"})
    visited_at = DateTimeLocalField(_l("接待时间"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    consent = BooleanField(_l("本人同意留下联系方式"))
    visitor_name = StringField(_l("群众姓名（可选）"), validators=[Length(max=32)])
    visitor_phone = StringField(_l("联系电话（可选）"), validators=[Length(max=20)])
    answered_on_spot = BooleanField(_l("已当场答复"))
    spot_answer = TextAreaField(_l("当场答复内容"), render_kw={"rows": 2})
    follow_up = BooleanField(_l("需要交办（转为待办件）"))


class GroupedSelect(Select):
    """A select whose choices are {group: [(value, label)]}; the group "" (the blank 请选择) has no optgroup."""

    def __call__(self, field, **kwargs):
        if not field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for group, choices in field.iter_groups():
            if group:
                html.append(f"<optgroup {html_params(label=group)}>")
            html.extend(self.render_option(val, label, selected, **render_kw)
                        for val, label, selected, render_kw in choices)
            if group:
                html.append("</optgroup>")
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704 (html_params and render_option escape every value)


class MessageForm(FlaskForm):
    target = SelectField(_l("留言给"), validators=[DataRequired(_l("请选择要留言的联络站或代表。"))],
                         widget=GroupedSelect())
    body = TextAreaField(_l("留言内容"), render_kw={"rows": 6, "maxlength": 2000})
    name = StringField(_l("称呼（可选）"), validators=[Length(max=32)])
    phone = StringField(_l("联系电话（可选，仅工作人员可见）"), validators=[Length(max=40)],
                        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "tel"})
    sms_consent = BooleanField(_l("同意接收短信通知"))
    website = StringField(_l("网址"))  # honeypot: people never see it, bots fill it in


class TrackForm(FlaskForm):
    code = StringField(_l("回执码"), validators=[DataRequired(_l("请输入回执码。")), Length(max=20)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters"})


class RateForm(FlaskForm):
    code = StringField(validators=[Optional(), Length(max=20)])
    rating = RadioField(_l("您对办理结果的评价"), choices=list(RATINGS.items()))
    note = TextAreaField(_l("意见（可选）"), validators=[Length(max=2000)], render_kw={"rows": 2})


class SortForm(FlaskForm):
    category = SelectField(_l("类别"), choices=list(CATEGORIES.items()))
    title = StringField(_l("标题"), validators=[Length(max=120)])


class AssignForm(FlaskForm):
    unit_id = SelectField(_l("主办单位"), coerce=int)
    assisting = MultiCheckboxField(_l("协办单位（可选）"), coerce=int)
    deadline = DateField(_l("办理期限"), validators=[Optional()])
    note = TextAreaField(_l("交办意见"), validators=[Length(max=2000)], render_kw={"rows": 2})


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("答复内容"), render_kw={"rows": 5})
    reply_class = SelectField(_l("答复类别"),
                              choices=[("", _l("（不分类）"))] + [(k, reply_class_text(k)) for k in REPLY_CLASSES])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("退回理由"), render_kw={"rows": 2})


class ExtensionForm(FlaskForm):
    until = DateField(_l("申请延期至"), validators=[Optional()])
    reason = TextAreaField(_l("延期理由"), render_kw={"rows": 2})


class DecideExtensionForm(FlaskForm):
    approve = RadioField(_l("审批"), choices=[("1", _l("同意延期")), ("0", _l("不同意"))], default="1")
    note = StringField(_l("审批意见"), validators=[Length(max=2000)])


class SendForm(FlaskForm):
    text = TextAreaField(_l("反馈给群众的答复"), render_kw={"rows": 5})


class MergeForm(FlaskForm):
    # A number no INTEGER column can hold names no case: refuse it here rather than in the query.
    into = IntegerField(_l("并入的件号"), validators=[Optional(), NumberRange(1, MAX_ID, _l("请填写要并入的件号。"))])


class CloseForm(FlaskForm):
    note = StringField(_l("办结说明"), validators=[Length(max=2000)])


class DeputyCaseForm(FlaskForm):
    category = SelectField(_l("类别"), choices=list(CATEGORIES.items()))
    title = StringField(_l("标题"), validators=[Length(max=120)])
    body = TextAreaField(_l("反映的情况和建议"), render_kw={"rows": 8})
