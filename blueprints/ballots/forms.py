from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.forms import FlaskForm
from ..registry.models import LEVEL_LABELS
from .models import METHODS

_title = [DataRequired(_l("请填写名称。")), Length(max=120, message=_l("不能超过 %(max)d 个字符。"))]
_int_message = _l("请填写整数。")


class MeetingForm(FlaskForm):
    title = StringField(_l("会议名称"), validators=_title,
                        render_kw={"placeholder": "青山县第十八届人民代表大会第二次会议"})
    level = SelectField(_l("人大层级"), choices=list(LEVEL_LABELS.items()), default="county")
    area_id = SelectField(_l("乡镇（乡镇人代会必选）"), coerce=int, choices=[], validate_choice=False)
    term = StringField(_l("届次（留空则为该层级全部在任代表）"), validators=[Length(max=32)])
    held_on = DateField(_l("会议日期"), validators=[Optional()])


class BallotForm(FlaskForm):
    title = StringField(_l("表决事项"), validators=_title)
    method = SelectField(_l("表决方式"), choices=list(METHODS.items()), default="approve")
    secret = BooleanField(_l("无记名投票"), default=True)
    max_yes = IntegerField(_l("每张选票最多赞成项数（差额票决，可选）"), validators=[Optional()],
                           render_kw={"inputmode": "numeric"})
    places = IntegerField(_l("入选名额（可选）"), validators=[Optional()], render_kw={"inputmode": "numeric"})


class ItemForm(FlaskForm):
    title = StringField(_l("项目名称"), validators=_title)
    unit_name = StringField(_l("责任单位"), validators=[Length(max=64)])
    budget = StringField(_l("预算（万元）"), validators=[Length(max=20)])
    timeline = StringField(_l("完成时限"), validators=[Length(max=64)])


class CallForm(FlaskForm):
    title = StringField(_l("征集名称"), validators=_title)
    deadline = DateField(_l("截止日期"), validators=[DataRequired(_l("请填写截止日期。"))])
    description = TextAreaField(_l("征集说明"), validators=[Length(max=5000)])
    scope_in = TextAreaField(_l("征集范围（可以提的项目类型）"), validators=[Length(max=2000)])
    scope_out = TextAreaField(_l("不纳入范围的项目类型"), validators=[Length(max=2000)])


class ProposalForm(FlaskForm):
    title = StringField(_l("项目名称"), validators=_title)
    content = TextAreaField(_l("做什么、在哪里"), validators=[DataRequired(_l("请说明做什么、在哪里。")),
                                                        Length(max=2000)])
    reason = TextAreaField(_l("为什么需要（可选）"), validators=[Length(max=2000)])
    contact = StringField(_l("联系方式（可选，不公开）"), validators=[Length(max=64)])


class UnitProposalForm(ProposalForm):
    cost_estimate = StringField(_l("估算投资（万元）"), validators=[Length(max=20)])
    timeline = StringField(_l("计划完成时限"), validators=[Length(max=64)])


class ScreenForm(FlaskForm):
    decision = SelectField(_l("审查结果"), choices=[("accepted", _l("列入候选项目")), ("merged", _l("与其他建议合并")),
                                                 ("rejected", _l("不予采纳"))])
    merged_into_id = SelectField(_l("合并到"), coerce=int, validators=[Optional()])
    public_reason = StringField(_l("公开说明"), validators=[Length(max=255)])


class PaperCountForm(FlaskForm):
    """The tellers' form for one item; ``paper_count_form(method)`` adds one count field per choice."""

    item_id = SelectField(_l("项目"), coerce=int)
    note = StringField(_l("说明（更正时填写原因）"), validators=[Length(max=255)])

    def count_fields(self):
        return [self[count_field(c)] for c in self.method_choices]

    def counts(self) -> list:
        return [f.data for f in self.count_fields()]


def count_field(choice: str) -> str:
    """The paper-count field of a choice (tally.py names it in its refusals)."""
    return f"count_{choice}"


def paper_count_form(method, **kwargs) -> PaperCountForm:
    """The paper-count form built from the method's choices and labels (methods.py): a method with
    two or four choices gets two or four fields, with no template change."""
    fields = {count_field(c): StringField(method.labels[c], validators=[DataRequired(_int_message)],
                                          render_kw={"inputmode": "numeric"}) for c in method.choices}
    form_class = type(f"PaperCountForm_{method.key}", (PaperCountForm,),
                      {**fields, "method_choices": tuple(method.choices)})
    return form_class(**kwargs)


class ProgressForm(FlaskForm):
    progress = IntegerField(_l("完成进度（%）"), validators=[
        InputRequired(_l("请填写进度。")),
        NumberRange(min=0, max=100, message=_l("进度必须是 0 到 100 之间的整数。"))])
    milestone = StringField(_l("节点"), validators=[Length(max=120)])
    note = TextAreaField(_l("进展情况"), validators=[Length(max=5000)])


class NoticeForm(FlaskForm):
    body = TextAreaField(_l("通知内容"), validators=[DataRequired(_l("请填写通知内容。")),
                                                  Length(max=5000, message=_l("不能超过 %(max)d 个字符。"))],
                         render_kw={"rows": 6})
    starts = StringField(_l("报到时间（可选）"), validators=[Length(max=64)], render_kw={"placeholder": "1月10日 8:30"})
    place = StringField(_l("地点（可选）"), validators=[Length(max=128)])


class OccasionForm(NoticeForm):
    """A notice of a standing committee sitting, a group activity or a report to voters (occasions.py);
    the recipients (checkboxes ``deputy_ids``) are read from the request by the view."""

    kind = SelectField(_l("类别"), choices=[], validate_choice=False)
    title = StringField(_l("名称"), validators=_title, render_kw={"placeholder": "城关镇代表小组三季度集中视察"})
    held_on = DateField(_l("日期"), validators=[DataRequired(_l("请填写日期。"))])
    group_id = SelectField(_l("代表小组（代表小组活动必选）"), coerce=int, choices=[], validate_choice=False, default=0)
    area_id = SelectField(_l("乡镇（向选民述职：该乡镇全部在任代表）"), coerce=int, choices=[], validate_choice=False,
                          default=0)
