"""The public directory: deputies and stations as constituents see them (never private fields)."""
from flask import Blueprint

bp = Blueprint("directory", __name__)
