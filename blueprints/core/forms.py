"""Forms. Every form of the site subclasses ``FlaskForm`` from here (tests/test_security_records.py
checks that no module imports flask_wtf's own), which refuses, for every field at once:

- control characters other than newline and tab in text (a browser's CR LF and a bare CR become a
  newline first): they break exports, iCalendar files and PostgreSQL (NUL);
- NaN, sNaN and infinities in number fields (``Decimal("NaN")`` passes WTForms and then breaks every
  comparison with an InvalidOperation, a 500).
"""
import math
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from .models import ROLE_LABELS

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _finite(value) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


class FlaskForm(_FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        refused: dict[str, str] = {}
        for name, field in self._fields.items():
            data = field.data
            if isinstance(data, str):
                if "\r" in data:
                    field.data = data = data.replace("\r\n", "\n").replace("\r", "\n")
                if CONTROL_CHARACTERS.search(data):
                    refused[name] = str(_l("“%(f)s”含有不允许的控制字符，请删除后重新填写。", f=field.label.text))
            elif isinstance(data, (float, Decimal)) and not isinstance(data, bool) and not _finite(data):
                field.data = None  # NaN breaks the field's own range checks
                refused[name] = str(_l("“%(f)s”请填写有效的数字。", f=field.label.text))
        valid = super().validate(extra_validators)
        for name, message in refused.items():
            self._fields[name].errors = [message]
        return valid and not refused


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(max=64)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。")), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("登录"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码。"))])
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码。")), Length(max=128)])
    confirm = PasswordField(
        _l("再次输入新密码"), validators=[EqualTo("new", _l("两次输入的新密码不一致。"))]
    )
    submit = SubmitField(_l("修改密码"))


ROLE_CHOICES = [(key, label) for key, label in ROLE_LABELS.items() if key != "deputy"]


class UserForm(FlaskForm):
    username = StringField(
        _l("用户名"),
        validators=[
            DataRequired(_l("请填写用户名。")),
            Length(max=64, message=_l("用户名不能超过 64 个字符。")),
            Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("用户名只能包含字母、数字、下划线、点和连字符。")),
        ],
    )
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=64)])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES)
    station_id = SelectField(_l("所属联络站（联络员）"), coerce=int, validators=[Optional()])
    unit_id = SelectField(_l("所属承办单位（承办单位账号）"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(_l("请填写初始密码。")), Length(max=128)])
    submit = SubmitField(_l("保存"))


class RoleForm(FlaskForm):
    role = SelectField(_l("角色"), choices=list(ROLE_LABELS.items()))
    station_id = SelectField(_l("所属联络站（联络员）"), coerce=int, validators=[Optional()])
    unit_id = SelectField(_l("所属承办单位（承办单位账号）"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("保存角色"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码。")), Length(max=128)])
    submit = SubmitField(_l("重置密码"))


class ToggleActiveForm(FlaskForm):
    active = BooleanField()
    submit = SubmitField()


class TotpForm(FlaskForm):
    code = StringField(_l("验证码"), validators=[DataRequired(_l("请填写验证码。")), Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("确认"))
