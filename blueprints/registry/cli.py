"""`flask --app app registry ...`: roster import and export from the command line."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..core.errors import DomainError
from ..core.extensions import db
from ..core.models import User
from . import roster, services

registry_cli = AppGroup("registry", help="代表名册：导入、导出。")


@registry_cli.command("import-deputies")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-missing", is_flag=True, help="名册中的代表小组、联络站不存在时自动新建")
@click.option("--as", "username", default=None, help="记入操作日志的账号（默认 system）")
def import_deputies(path: Path, create_missing: bool, username: str | None):
    """Import a roster (.xlsx or .csv, UTF-8 or GBK): all rows or none."""
    actor = None
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.ClickException(f"账号 {username} 不存在")
    with click.progressbar(length=1, label="导入名册", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            result = roster.import_roster(path.read_bytes(), path.name, create_missing=create_missing,
                                          actor=actor, progress=progress)
        except DomainError as exc:
            bar.render_finish()
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(exc.message) from exc
    click.echo(result.summary)


@registry_cli.command("export-deputies")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--status", type=click.Choice(["serving", "ended", "all"]), default="all", show_default=True,
              help="导出在任、已终止或全部代表")
def export_deputies(path: Path, status: str):
    """Export the roster to .xlsx with the same headers the import reads."""
    path.write_bytes(roster.export_roster(services.deputy_query(status=status)))
    click.echo(f"已导出到 {path}")
