"""``url_for`` in templates, remembered per worker.

A public page builds 40–60 addresses (the menu, the static files, one per listed notice or deputy), and
werkzeug's URL builder costs tens of microseconds each: together a few milliseconds of every page.
A relative address depends only on the URL map (fixed once the app has started), the request's script
root, the endpoint and its arguments, so the answer for the same (script root, endpoint, arguments) is
kept; the URL map never changes while the worker runs, so nothing needs invalidating.

Anything else goes to Flask's ``url_for`` unchanged: blueprint-relative endpoints (``.name``), the
``_external``/``_anchor``/``_method``/``_scheme`` options, unhashable arguments (lists), calls outside
a request, and apps with ``url_defaults`` callbacks (they may add arguments per request).
"""
from __future__ import annotations

import threading

from flask import Flask, has_request_context, request, url_for

MAX_ENTRIES = 20_000


def install(app: Flask) -> None:
    memo: dict[tuple, str] = {}
    lock = threading.Lock()

    def remembered_url_for(endpoint: str, **values) -> str:
        if (endpoint.startswith(".") or not has_request_context() or app.url_default_functions
                or any(key.startswith("_") for key in values)):
            return url_for(endpoint, **values)
        try:
            key = (request.script_root, endpoint, *sorted(values.items()))
            url = memo.get(key)
        except TypeError:  # an unhashable argument
            return url_for(endpoint, **values)
        if url is None:
            url = url_for(endpoint, **values)
            with lock:
                if len(memo) >= MAX_ENTRIES:
                    memo.clear()
                memo[key] = url
        return url

    app.jinja_env.globals["url_for"] = remembered_url_for
    app.extensions["url_memo"] = memo
