"""`flask --app app registry ...` commands."""
import click
from flask.cli import AppGroup

registry_cli = AppGroup("registry", help="代表名册：导入、导出。")


@registry_cli.command("import-deputies")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_deputies(path):
    """Import a roster (.xlsx or .csv) all-or-nothing."""
    raise click.ClickException("尚未实现")
