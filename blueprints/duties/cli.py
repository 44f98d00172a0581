"""`flask --app app duties ...`: the year's ranking and publication from the command line
(the commands hang on the duties blueprint's own CLI group)."""
from __future__ import annotations

import click
from sqlalchemy import select

from ..core.extensions import db
from ..core.models import User
from ..registry.models import LEVELS
from . import scoring
from .views import bp


def _actor(username: str | None):
    if not username:
        return None
    actor = db.session.scalar(select(User).where(User.username == username))
    if actor is None:
        raise click.ClickException(f"账号 {username} 不存在")
    return actor


@bp.cli.command("ranking")
@click.argument("year", type=int)
@click.option("--level", type=click.Choice(LEVELS), default="county", show_default=True)
@click.option("--top", type=int, default=20, show_default=True, help="显示前多少名")
def ranking(year: int, level: str, top: int):
    """Print the year's ranking of one level (computed from the year's published rules)."""
    rows, total = scoring.ranking_page(year, level, 1, per_page=top)
    click.echo(f"{year} 年度 {level}：共 {total} 名代表")
    for r in rows:
        click.echo(f"{r['rank']:>5}  {r['name']:<12} {float(r['total']):8.1f}")


@bp.cli.command("publish-rules")
@click.argument("year", type=int)
@click.option("--as", "username", default=None, help="记入操作日志的账号（默认 system）")
def publish_rules(year: int, username: str | None):
    """Post the year's points rules on the noticeboard (revises the earlier notice if any)."""
    notice = scoring.publish_rules(year, _actor(username))
    click.echo(f"已发布公示 #{notice.id}：{notice.title}")


@bp.cli.command("publish-results")
@click.argument("year", type=int)
@click.option("--level", type=click.Choice(LEVELS), default="county", show_default=True)
@click.option("--as", "username", default=None, help="记入操作日志的账号（默认 system）")
def publish_results(year: int, level: str, username: str | None):
    """Post the year's evaluation results on the noticeboard; the year's rules are then frozen."""
    notice = scoring.publish_results(year, level, _actor(username))
    click.echo(f"已发布公示 #{notice.id}：{notice.title}")
