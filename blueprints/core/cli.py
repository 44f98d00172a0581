"""Command-line tools: `flask --app app create-admin`, `flask --app app load-demo`, ..."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from . import accounts
from .errors import DomainError


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("username")
    @click.option("--name", "display_name", default=None, help="显示的姓名")
    @click.password_option(help="密码（至少 8 个字符）")
    @with_appcontext
    def create_admin(username, display_name, password):
        """Create a system administrator account."""
        try:
            accounts.create_user(username, password, "admin", display_name or username)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"已创建系统管理员账号：{username}")

    @app.cli.command("load-demo")
    @with_appcontext
    def load_demo():
        """Load the demo county into an empty, migrated database."""
        from .setup import prepare_database

        prepare_database(load_demo=True)

    @app.cli.command("analyze")
    @with_appcontext
    def analyze():
        """Refresh the database's query-planner statistics (run nightly from cron on SQLite)."""
        from .setup import analyze_database

        analyze_database()
        click.echo("已更新数据库的查询统计信息。")

    @app.cli.command("prune-login-attempts")
    @with_appcontext
    def prune_login_attempts():
        """Forget failed-login records older than a day (run daily from cron)."""
        click.echo(f"已清理 {accounts.prune_login_attempts()} 条过期的登录失败记录。")
