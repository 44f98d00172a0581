"""Attachments kept across a refused submit (issue 18): a browser never re-fills a file input, so the
files of an activity form refused for, say, a missing title are stored provisionally and the form carries
a token (hidden field ``kept``); the next submit of the same deputy takes them back. Files live under
``PROVISIONAL_DIR`` (default ``instance/provisional/<token>/``), are only ever read back by the account
that chose them, and are removed when used or after a day.

    keep(files, owner_id, token=None) -> token       # files: [(name, bytes)], already checked
    take(token, owner_id) -> [(name, bytes)]         # [] for an unknown, foreign or expired token
    names(token, owner_id) -> [name]
    discard(token)
    clean(now=None)                                  # folders older than a day
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from flask import current_app

MAX_AGE_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def _root() -> Path:
    return Path(current_app.config.get("PROVISIONAL_DIR") or Path(current_app.instance_path) / "provisional")


def _folder(token: str | None) -> Path | None:
    if not token or not TOKEN.match(token):
        return None
    folder = _root() / token
    return folder if folder.is_dir() else None


def _index(folder: Path, owner_id: int) -> list[str] | None:
    try:
        meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("owner") != owner_id or time.time() - meta.get("at", 0) > MAX_AGE_SECONDS:
        return None
    return list(meta.get("names", []))


def keep(files: list[tuple[str, bytes]], owner_id: int, token: str | None = None) -> str | None:
    """Store ``files`` (with those already kept under ``token``); returns the token, or None for no files."""
    clean()
    kept = take(token, owner_id) if token else []
    discard(token)
    files = kept + list(files)
    if not files:
        return None
    token = secrets.token_urlsafe(16)
    folder = _root() / token
    folder.mkdir(parents=True, exist_ok=False)
    for index, (_name, data) in enumerate(files):
        (folder / f"{index}.bin").write_bytes(data)
    (folder / "index.json").write_text(json.dumps({"owner": owner_id, "at": time.time(),
                                                   "names": [name for name, _data in files]}), encoding="utf-8")
    return token


def names(token: str | None, owner_id: int) -> list[str]:
    folder = _folder(token)
    return (_index(folder, owner_id) or []) if folder else []


def take(token: str | None, owner_id: int) -> list[tuple[str, bytes]]:
    folder = _folder(token)
    listed = _index(folder, owner_id) if folder else None
    if not listed:
        return []
    try:
        return [(name, (folder / f"{index}.bin").read_bytes()) for index, name in enumerate(listed)]
    except OSError:
        return []


def discard(token: str | None) -> None:
    folder = _folder(token)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def clean(now: float | None = None) -> int:
    """Remove provisional folders older than a day; returns how many."""
    root = _root()
    if not root.is_dir():
        return 0
    limit = (now or time.time()) - MAX_AGE_SECONDS
    removed = 0
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed
