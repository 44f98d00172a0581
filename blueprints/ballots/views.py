"""Blueprint of the ballots area; routes live in the modules imported at the bottom."""
from flask import Blueprint

bp = Blueprint("ballots", __name__)

from . import models  # noqa: E402,F401  (tables registered with the metadata)
