"""Every link the site shows works: load the demo county, then, as the public and as each demo account,
follow every same-site link, HTMX GET and image the pages render (one page per URL shape) and expect
none of them to answer an error, neither as a full page nor as the HTMX fragment of the same URL. A link
to a page the role may not see, a broken URL, a fragment that lacks a macro, or a page that fails on
real-looking data all show up here."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from blueprints.core.demo import load_demo_county

LINK = re.compile(r'(?:href|hx-get|src)="([^"]+)"')
DIGITS = re.compile(r"\d+")
NOT_FOLLOWED = ("/logout", "/static/")
MAX_PAGES = 1000


def _shape(url: str) -> str:
    """/notices/17?page=2 and /notices/18?page=3 are one shape: visit one of them."""
    parts = urlsplit(url)
    return DIGITS.sub("N", parts.path) + "?" + DIGITS.sub("N", parts.query)


def crawl(client, starts: list[str]) -> tuple[int, list[tuple[int, str, str]]]:
    seen: set[str] = set()
    queue = deque((url, "(start)") for url in starts)
    visited, failures = 0, []
    while queue and visited < MAX_PAGES:
        url, parent = queue.popleft()
        if _shape(url) in seen:
            continue
        seen.add(_shape(url))
        visited += 1
        response = client.get(url)
        if response.status_code >= 400:
            failures.append((response.status_code, url, parent))
            continue
        fragment = client.get(url, headers={"HX-Request": "true"})
        if fragment.status_code >= 400:
            failures.append((fragment.status_code, url + " (HTMX)", parent))
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        for href in LINK.findall(response.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            if href.startswith(("http:", "https:", "mailto:", "tel:", "#", "javascript:", "data:", "//")):
                continue
            target = urljoin(url, href)
            if not target.startswith(NOT_FOLLOWED):
                queue.append((target, url))
    return visited, failures


@pytest.fixture
def demo(app):
    load_demo_county()
    return app


@pytest.mark.parametrize(("username", "at_least"), [
    (None, 30), ("admin", 100), ("staff", 100), ("liaison", 40), ("clerk", 40), ("unit", 40), ("deputy1", 40),
])
def test_every_link_the_demo_shows_answers_without_error(demo, username, at_least):
    client = demo.test_client()
    starts = ["/"]
    if username:
        assert client.post("/login", data={"username": username, "password": "demo-2026"}).status_code == 302
        starts.append("/workspace/")
    visited, failures = crawl(client, starts)
    assert failures == []
    assert visited >= at_least  # the crawl really went through the site
