from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from ..core.forms import FlaskForm


class ContactForm(FlaskForm):
    email = StringField(_l("电子邮件"), validators=[Optional(), Length(max=254)])
    mobile = StringField(_l("手机号码"), validators=[Optional(), Length(max=20)])
    email_digest = BooleanField(_l("电子邮件每天汇总一封（不逐条发送）"))
