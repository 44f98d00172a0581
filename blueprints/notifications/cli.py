"""`flask --app app notify deliver [--loop]`: send what is due (cron, or a long-running worker)."""
from __future__ import annotations

import logging
import signal

import click
from flask.cli import AppGroup, with_appcontext

notify_cli = AppGroup("notify", help="消息通知：发送待发消息、生成提醒。")


@notify_cli.command("deliver")
@click.option("--loop", is_flag=True, help="作为常驻进程运行，每隔 --interval 秒发送一次")
@click.option("--interval", type=float, default=10.0, show_default=True)
@click.option("--limit", type=int, default=None, help="本次最多发送多少条")
@with_appcontext
def deliver_command(loop: bool, interval: float, limit: int | None):
    """Send every due e-mail and SMS; retries wait with a backoff; each attempt is recorded."""
    from . import delivery

    if not logging.getLogger().handlers:  # cron and the worker: what is sent goes to stderr (no addresses)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not loop:
        result = delivery.deliver(limit=limit)
        click.echo(f"已发送 {result.sent} 条，待重试 {result.retried} 条，失败 {result.failed} 条，"
                   f"生成汇总 {result.digests} 封")
        return
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    click.echo(f"消息发送进程已启动，每 {interval:g} 秒检查一次（SIGTERM 结束）")
    delivery.run_worker(interval=interval, stop=lambda: bool(stopping))


@notify_cli.command("remind")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="按哪一天计算（默认今天，北京时间）")
@with_appcontext
def remind_command(day):
    """Queue the day's reminders (deadlines, overdue, 进度通报, staff digest); running twice adds nothing."""
    from . import reminders

    queued = reminders.remind(today=day.date() if day else None)
    click.echo(f"已生成提醒 {queued} 条")
