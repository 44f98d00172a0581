from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from .models import ROLE_LABELS


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
