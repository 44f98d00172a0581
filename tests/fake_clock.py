"""A pytest plugin that shifts the app's clock (core.timeutil: utcnow, local_today) to FAKE_LOCAL, a local
Asia/Shanghai time, so the demo can be loaded "on a Sunday at 02:13" and checked:

    FAKE_LOCAL=2026-11-29T02:13:00 python -m pytest -p tests.fake_clock -q tests/test_demo_facts.py
"""
from __future__ import annotations

import os
from datetime import datetime

import blueprints.core.timeutil as timeutil

_real = datetime
_offset = _real.fromisoformat(os.environ["FAKE_LOCAL"]).replace(tzinfo=timeutil.LOCAL_TZ) - _real.now(timeutil.LOCAL_TZ)


class _ShiftedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return _real.now(tz) + _offset


timeutil.datetime = _ShiftedDatetime
