"""Small facts that public pages compute from public tables, remembered per worker.

Why: a list page's total (20,000 published notices counted on every page of the noticeboard) and its
filters' choices (a city's townships and groups) cost more than drawing the page's twenty rows, and they
change only when public content changes. They are kept under the same rules as the public page cache
(core/pagecache.py), so nothing here can answer something the database no longer says:

- an entry is used only while the public content counter (bumped in the same transaction as any change
  to a watched table) is what it was when the entry was computed; the counter is read once per request,
  before anything is computed, so a value computed after a concurrent change is stored under the older
  counter and never served;
- an entry also ends at the next publish or take-down time of a notice and after PUBLIC_FACTS_SECONDS,
  both checked against the clock on every read;
- nothing is remembered or served while the session holds uncommitted changes.

Values must be immutable (numbers, tuples of plain rows). PUBLIC_FACTS_SECONDS = 0 turns this off (the
tests do, except tests/test_public_facts_memo.py)."""
from __future__ import annotations

from flask import current_app

from . import counters, pagecache

# fn(*args) -> an immutable value computed from public tables only, remembered as the module says.
remembered = counters.Memo(pagecache.PUBLIC, lambda: float(current_app.config.get("PUBLIC_FACTS_SECONDS", 0)),
                           pagecache.next_change)
clear = remembered.clear
