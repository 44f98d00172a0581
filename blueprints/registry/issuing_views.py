"""Pages and command line for issuing accounts at once (``registry/issuing.py`` holds the rules).

- ``/registry/accounts/issue`` (staff): choose the set, then 打印凭条 (an A4 sheet of slips with cut
  lines) or 下载 Excel. The answer to the POST is the slips themselves (never stored, never redirected
  to: ``Cache-Control: no-store``), so the passwords exist only on that page or in that file.
- ``flask --app app accounts issue --role deputy|unit|liaison [--township NAME] [--group NAME]
  [--since YYYY-MM-DD] [--reset] --out FILE.xlsx``.
"""
from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import click
from flask import Blueprint, render_template
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional

from ..core.downloads import XLSX, download
from ..core.errors import DomainError, attach_to_form
from ..core.extensions import db
from ..core.forms import FlaskForm
from ..core.models import User
from ..core.permissions import role_required
from ..core.qr import public_url, qr_svg
from . import issuing

bp = Blueprint("issuing", __name__)

ROLE_CHOICES = [("deputy", _l("人大代表")), ("unit", _l("承办单位")), ("liaison", _l("联络站联络员"))]


class IssueForm(FlaskForm):
    role = SelectField(_l("为谁开通"), choices=ROLE_CHOICES)
    township = SelectField(_l("乡镇（街道）"), choices=[], validate_choice=False)
    group = SelectField(_l("代表小组"), choices=[], validate_choice=False)
    since = DateField(_l("只含此日期以后录入的代表（如刚导入的名册）"), validators=[Optional()],
                      render_kw={"type": "date"})
    reset = BooleanField(_l("重置已有账号的初始密码（原密码立即失效）"))
    output = SelectField(_l("输出"), choices=[("slips", _l("打印凭条（A4）")), ("xlsx", _l("下载 Excel"))])


def _fill(form: IssueForm) -> None:
    form.township.choices = [("", _("全部乡镇"))] + [(a.name, a.name) for a in issuing.townships()]
    form.group.choices = [("", _("全部代表小组"))] + [(g.name, g.name) for g in issuing.groups()]


@bp.route("/registry/accounts/issue", methods=["GET", "POST"])
@role_required("staff")
def issue():
    form = IssueForm()
    _fill(form)
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("registry/accounts_issue.html", form=form), status
    try:
        result = issuing.issue_accounts(
            form.role.data, township=form.township.data or None, group=form.group.data or None,
            since=form.since.data, reset=form.reset.data, actor=current_user._get_current_object())
    except DomainError as exc:
        attach_to_form(form, exc, "role")
        return render_template("registry/accounts_issue.html", form=form, problems=exc.problems,
                               message=exc.message), 422
    if form.output.data == "xlsx":
        return download(issuing.slips_workbook(result.slips), _("账号凭条.xlsx"), XLSX, cache="no-store")
    return render_slips(result)


def render_slips(result: issuing.IssueResult):
    address = public_url("core.login")
    qr = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(address)).decode()
    return render_template("registry/account_slips.html", result=result, address=address, qr=qr)


# ---- command line ----------------------------------------------------------------------------

accounts_cli = AppGroup("accounts", help="账号：批量开通代表、承办单位、联络站联络员的账号。")


@accounts_cli.command("issue")
@click.option("--role", type=click.Choice(issuing.ISSUED_ROLES), required=True, help="为谁开通")
@click.option("--township", default=None, help="只开通这个乡镇（街道）的代表")
@click.option("--group", default=None, help="只开通这个代表小组的代表")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="只开通此日期以后录入的代表（如刚导入的名册）")
@click.option("--reset", is_flag=True, help="已有账号的人重新发放初始密码（原密码立即失效）")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="写出账号凭条的 .xlsx 文件（姓名, 用户名, 初始密码, 角色）")
@click.option("--as", "username", default=None, help="记入操作日志的账号（默认 system）")
def issue_command(role, township, group, since, reset, out: Path, username):
    """Open accounts for a whole set at once and write their one-time passwords to FILE.xlsx."""
    actor = None
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.ClickException(f"账号 {username} 不存在")
    if out.exists():
        raise click.ClickException(f"{out} 已存在：初始密码不会覆盖写入已有文件，请换一个文件名。")
    since_day: date | None = since.date() if since else None
    with click.progressbar(length=1, label="开通账号", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            result = issuing.issue_accounts(role, township=township, group=group, since=since_day, reset=reset,
                                            actor=actor, progress=progress)
        except DomainError as exc:
            bar.render_finish()
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(exc.message) from exc
    out.write_bytes(issuing.slips_workbook(result.slips))
    out.chmod(0o600)
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(result.summary)
    click.echo(f"账号凭条已写入 {out}（{len(result.slips)} 人）。文件里有初始密码：打印发放后请删除。")
