"""Liaison stations: reception days and the duty rota, reception records, messages from the public,
station statistics. The case workflow itself lives in blueprints/core/cases.py (shared with suggestions)."""
