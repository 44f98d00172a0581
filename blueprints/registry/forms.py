from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.forms import FlaskForm
from ..core.models import AREA_KIND_LABELS
from ..core.versioning import version_field
from .models import END_REASON_LABELS, GROUP_KIND_LABELS, GROUP_ROLE_LABELS, LEVEL_LABELS, STATION_KIND_LABELS


def _too_long(n):
    return Length(max=n, message=_l("不能超过 %(max)d 个字符。"))


class DeputyForm(FlaskForm):
    row_version = version_field()  # the version this form showed (core.versioning)
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), _too_long(32)])
    gender = SelectField(_l("性别"), choices=[("", _l("（未填）")), ("男", "男"), ("女", "女")])
    level = SelectField(_l("层级"), choices=list(LEVEL_LABELS.items()))
    code = StringField(_l("代表编号"), validators=[Optional(), _too_long(32)])
    term = StringField(_l("届次"), validators=[Optional(), _too_long(32)])
    constituency = StringField(_l("选区/选举单位"), validators=[Optional(), _too_long(64)])
    occupation = StringField(_l("工作单位及职务"), validators=[Optional(), _too_long(128)])
    phone = StringField(_l("手机（不公开）"), validators=[Optional(), _too_long(20)])
    area_id = SelectField(_l("所在乡镇(街道)"), coerce=int)
    station_id = SelectField(_l("进驻联络站"), coerce=int)
    group_id = SelectField(_l("代表小组"), coerce=int)
    submit = SubmitField(_l("保存"))


class EndDeputyForm(FlaskForm):
    ended_on = DateField(_l("终止日期"), validators=[DataRequired(_l("请填写终止日期（年-月-日）。"))])
    reason = SelectField(_l("终止原因"), choices=list(END_REASON_LABELS.items()))
    note = StringField(_l("说明"), validators=[Optional(), _too_long(255)])
    submit = SubmitField(_l("确认终止代表资格"))


class GroupForm(FlaskForm):
    name = StringField(_l("小组名称"), validators=[DataRequired(_l("请填写小组名称。")), _too_long(64)])
    kind = SelectField(_l("类型"), choices=list(GROUP_KIND_LABELS.items()))
    speciality = StringField(_l("专业领域（专业小组）"), validators=[Optional(), _too_long(32)])
    area_id = SelectField(_l("所在乡镇(街道)"), coerce=int)
    liaison_user_id = SelectField(_l("联络员账号"), coerce=int)
    description = TextAreaField(_l("简介"), validators=[Optional(), _too_long(2000)])
    submit = SubmitField(_l("保存"))


class MemberForm(FlaskForm):
    deputy_id = SelectField(_l("代表"), coerce=int)
    role = SelectField(_l("职务"), choices=list(GROUP_ROLE_LABELS.items()))
    submit = SubmitField(_l("加入/更新"))


class StationForm(FlaskForm):
    row_version = version_field()  # the version this form showed (core.versioning)
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写联络站名称。")), _too_long(64)])
    code = StringField(_l("简称代码（联络员账号的用户名）"), validators=[Optional(), _too_long(32)])
    kind = SelectField(_l("阵地类型"), choices=list(STATION_KIND_LABELS.items()))
    area_id = SelectField(_l("所在乡镇(街道)"), coerce=int)
    address = StringField(_l("地址"), validators=[Optional(), _too_long(128)])
    opening_hours = StringField(_l("开放时间"), validators=[Optional(), _too_long(128)])
    contact_name = StringField(_l("联系人"), validators=[Optional(), _too_long(32)])
    contact_phone = StringField(_l("联系电话（公开）"), validators=[Optional(), _too_long(20)])
    latitude = DecimalField(_l("纬度（可选）"), places=6, validators=[
        Optional(), NumberRange(-90, 90, _l("纬度应在 -90 到 90 之间。"))])
    longitude = DecimalField(_l("经度（可选）"), places=6, validators=[
        Optional(), NumberRange(-180, 180, _l("经度应在 -180 到 180 之间。"))])
    description = TextAreaField(_l("简介"), validators=[Optional(), _too_long(2000)])
    active = BooleanField(_l("启用"), default=True)
    submit = SubmitField(_l("保存"))


class UnitForm(FlaskForm):
    name = StringField(_l("单位名称"), validators=[DataRequired(_l("请填写单位名称。")), _too_long(64)])
    code = StringField(_l("简称代码（单位账号的用户名）"), validators=[Optional(), _too_long(32)])
    contact_name = StringField(_l("联系人"), validators=[Optional(), _too_long(32)])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), _too_long(20)])
    active = BooleanField(_l("启用"), default=True)
    submit = SubmitField(_l("保存"))


class AreaForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写区划名称。")), _too_long(64)])
    kind = SelectField(_l("级别"), choices=list(AREA_KIND_LABELS.items()))
    code = StringField(_l("区划代码（可选）"), validators=[Optional(), _too_long(32)])
    parent_id = SelectField(_l("上级区划"), coerce=int)
    submit = SubmitField(_l("保存"))


class RosterImportForm(FlaskForm):
    file = FileField(_l("名册文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择要导入的名册文件。"))])
    create_missing = BooleanField(_l("名册中的代表小组、联络站不存在时自动新建"))
    submit = SubmitField(_l("导入"))
