from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateTimeLocalField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import FlaskForm
from ..core.versioning import version_field
from .models import CATEGORIES, SCOPES

PUBLISH_MODES = [("draft", _l("保存为草稿")), ("now", _l("立即发布")), ("scheduled", _l("定时发布"))]


class NoticeForm(FlaskForm):
    row_version = version_field()  # the version this form showed (core.versioning)
    category = SelectField(_l("栏目"), choices=list(CATEGORIES.items()))
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")),
                                                Length(max=120, message=_l("标题不能超过 %(max)d 个字符。"))])
    body = TextAreaField(_l("正文"), validators=[Length(max=20000, message=_l("正文不能超过 %(max)d 个字符。"))],
                         render_kw={"rows": 14})
    scope = SelectField(_l("公示范围"), choices=list(SCOPES.items()))
    area_id = SelectField(_l("乡镇(街道)"), coerce=int)
    station_id = SelectField(_l("联络站"), coerce=int)
    pinned = BooleanField(_l("置顶"))
    mode = RadioField(_l("发布方式"), choices=PUBLISH_MODES, default="draft")
    publish_at = DateTimeLocalField(_l("发布时间"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    take_down_at = DateTimeLocalField(_l("撤下时间（可选）"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    submit = SubmitField(_l("保存"))

    def validate_publish_at(self, field):
        if self.mode.data == "scheduled" and field.data is None:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("定时发布请填写发布时间。"))


class AttachmentForm(FlaskForm):
    file = FileField(_l("附件（PDF、PNG、JPG、Excel，5 MB 以内）"), validators=[FileRequired(_l("请选择文件。"))])
    submit = SubmitField(_l("上传附件"))
