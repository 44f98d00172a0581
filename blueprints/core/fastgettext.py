"""Templates' ``_()``, ``gettext`` and ``ngettext`` without Flask-Babel's per-call lookups.

Flask-Babel's Jinja callables look up ``g``, the domain, the locale and the translations cache on every
call (about 40 µs each); a page calls them 20–60 times. This app selects no locale per request (no
``locale_selector``: one language for the whole site), so the translations object is the same for every
request of an app, and it is found once, at the first call inside a request, and kept for that app.
"""
from __future__ import annotations

from flask import Flask, has_request_context
from flask_babel import get_babel, get_translations


def install(app: Flask) -> None:
    if get_babel(app).locale_selector is not None:
        return  # a per-request locale: Flask-Babel's own callables are the right ones
    found: list = []

    def translations():
        if found:
            return found[0]
        current = get_translations()
        if has_request_context():  # outside one Flask-Babel answers a placeholder; don't keep it
            found.append(current)
        return current

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
