from flask import Blueprint

from . import models  # noqa: F401

bp = Blueprint("suggestions", __name__)
