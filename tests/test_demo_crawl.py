"""Walk the demo county as the public and as each demo account, following every same-site link, HTMX GET
and image the pages render (one page per URL shape).

- Links: none of them answers an error, neither as a full page nor as the HTMX fragment of the same URL.
  A link to a page the role may not see, a broken URL, a fragment that lacks a macro, or a page that
  fails on real-looking data all show up here.
- Bad input: every POST form the walk meets is sent empty, and then with one field at a time replaced by
  garbage (markup, a 20-digit number, full-width digits, an impossible date, 5,000 characters), and every
  query parameter of every page likewise. Nothing may answer a server error; each gets a page or message.

The demo county is loaded once per session; each test gets a copy of it (conftest's ``demo`` fixture).
"""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

LINK = re.compile(r'(?:href|hx-get|src)="([^"]+)"')
DIGITS = re.compile(r"\d+")
NOT_FOLLOWED = ("/logout", "/static/")
NOT_POSTED = ("/logout", "/login")
MAX_PAGES = 1000
GARBAGE = ("", "<script>alert(1)</script>", "-1", "99999999999999999999", "abc", "１２３", "2026-13-45", "x" * 5000)
ROLES = [(None, 30), ("admin", 100), ("staff", 100), ("liaison", 40), ("clerk", 40), ("unit", 40), ("deputy1", 40),
         ("leader1", 40)]


def _shape(url: str) -> str:
    """/notices/17?page=2 and /notices/18?page=3 are one shape: visit one of them."""
    parts = urlsplit(url)
    return DIGITS.sub("N", parts.path) + "?" + DIGITS.sub("N", parts.query)


def walk(client, starts: list[str]):
    """Yields (url, parent, response) once per URL shape, breadth first."""
    seen: set[str] = set()
    queue = deque((url, "(start)") for url in starts)
    while queue and len(seen) < MAX_PAGES:
        url, parent = queue.popleft()
        if _shape(url) in seen:
            continue
        seen.add(_shape(url))
        response = client.get(url)
        yield url, parent, response
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        for href in LINK.findall(response.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            if href.startswith(("http:", "https:", "mailto:", "tel:", "#", "javascript:", "data:", "//")):
                continue
            target = urljoin(url, href)
            if not target.startswith(NOT_FOLLOWED):
                queue.append((target, url))


class PostForms(HTMLParser):
    """The POST forms of a page: action and {field: the value the page fills in (first option)}."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict]] = []
        self._form: tuple[str, dict] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            post = (a.get("method") or "").lower() == "post" or "hx-post" in a
            self._form = (a.get("hx-post") or a.get("action") or "", {}) if post else None
            return
        if self._form is None:
            return
        fields = self._form[1]
        name = a.get("name")
        if tag in ("input", "textarea") and name and a.get("type") not in ("submit", "button", "file"):
            if name not in fields:
                fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
        elif tag == "option" and self._select and not fields[self._select]:
            fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def _login(app, username):
    client = app.test_client()
    starts = ["/"]
    if username:
        assert client.post("/login", data={"username": username, "password": "demo-2026"}).status_code == 302
        starts.append("/workspace/")
    return client, starts


def _send(client, failures, what, method, url, **kwargs):
    # The test app propagates exceptions: an unhandled one is what a user would see as a 500.
    try:
        status = client.open(url, method=method, **kwargs).status_code
    except Exception as exc:  # noqa: BLE001 - reported with the request that raised it
        failures.append((type(exc).__name__, method, url, what))
        return
    if status >= 500:
        failures.append((status, method, url, what))


@pytest.mark.parametrize(("username", "at_least"), ROLES)
def test_every_link_the_demo_shows_answers_without_error(demo, username, at_least):
    client, starts = _login(demo, username)
    visited, failures = 0, []
    for url, parent, response in walk(client, starts):
        visited += 1
        if response.status_code >= 400:
            failures.append((response.status_code, url, parent))
            continue
        fragment = client.get(url, headers={"HX-Request": "true"})
        if fragment.status_code >= 400:
            failures.append((fragment.status_code, url + " (HTMX)", parent))
    assert failures == []
    assert visited >= at_least  # the walk really went through the site


@pytest.mark.parametrize(("username", "at_least"), ROLES)
def test_no_form_or_query_parameter_the_demo_shows_fails_on_garbage(demo, username, at_least):
    client, starts = _login(demo, username)
    posted: set[str] = set()
    forms, failures = 0, []
    for url, _parent, response in walk(client, starts):
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        for i, (name, _value) in enumerate(params):
            for junk in GARBAGE:
                query = urlencode(params[:i] + [(name, junk)] + params[i + 1:])
                _send(client, failures, f"{name}={junk[:20]}", "GET", f"{parts.path}?{query}")
                _send(client, failures, f"{name}={junk[:20]} (HTMX)", "GET", f"{parts.path}?{query}",
                      headers={"HX-Request": "true"})
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        parser = PostForms()
        parser.feed(response.get_data(as_text=True))
        for action, fields in parser.forms:
            target = urljoin(url, action.replace("&amp;", "&")) if action else url
            if target.startswith(NOT_POSTED) or _shape(target) in posted:
                continue
            posted.add(_shape(target))
            forms += 1
            _send(client, failures, "every field empty", "POST", target, data=dict.fromkeys(fields, ""))
            for name in fields:
                for junk in GARBAGE:
                    _send(client, failures, f"{name}={junk[:20]}", "POST", target, data={**fields, name: junk})
    assert failures == []
    assert forms >= (3 if username is None else 5)  # the walk really met forms
