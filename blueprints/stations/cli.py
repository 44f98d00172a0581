"""`flask --app app stations ...`: generate the reception calendars and rotas, list overdue cases."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..core.cases import overdue_query
from ..core.extensions import db
from ..registry.models import Station
from . import calendar as cal

stations_cli = AppGroup("stations", help="联络站：生成接待日与轮值表、列出超期件。")


@stations_cli.command("generate")
@click.argument("year", type=int)
def generate(year: int) -> None:
    """Generate YEAR's reception days and rota for every active station that has a rule."""
    stations = db.session.scalars(select(Station).where(Station.active).order_by(Station.id)).all()
    result = cal.generate_year(stations, year)
    click.echo(f"{year}: {result['days']} reception days, {result['duties']} duties")


@stations_cli.command("overdue")
def overdue() -> None:
    """List cases whose main unit has not replied by the deadline."""
    for case in db.session.scalars(overdue_query()):
        main = case.main_assignment
        click.echo(f"{case.id}\t{main.deadline}\t{main.unit.name}\t{case.title}")
