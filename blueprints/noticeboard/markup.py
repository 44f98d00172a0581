"""A small, safe Markdown subset for notice bodies: no raw HTML, no images, only safe link schemes.

Plain text typed as it comes (a clerk who never heard of Markdown) reads as typed: every line break is
kept (the 落款 date stays on its own line under the signature), indented lines are not code blocks.
Optional formatting: headings, lists, **bold**, links, and pipe tables (| 项目 | 分值 |)."""
from __future__ import annotations

import hashlib
import threading

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})
_md.enable("table")
# Images would load from other hosts (and the CSP blocks them anyway): attach files instead. Indented and
# fenced code blocks would turn a typist's indented paragraph into monospace.
_md.disable(["image", "html_block", "html_inline", "code", "fence"])
SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


def _validate_link(url: str) -> bool:
    # markdown-it already refuses javascript:, vbscript:, file: and data:; allow only what we know.
    return url.strip().lower().startswith(SAFE_SCHEMES)


_md.validateLink = _validate_link


def _link_open(renderer, tokens, idx, options, env):
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


_md.add_render_rule("link_open", _link_open)


def _table_open(renderer, tokens, idx, options, env):
    # A wide table scrolls inside its own box (focusable, named), never the page.
    return '<div class="notice-table" role="region" aria-label="表格" tabindex="0">' + renderer.renderToken(
        tokens, idx, options, env)


def _table_close(renderer, tokens, idx, options, env):
    return renderer.renderToken(tokens, idx, options, env) + "</div>"


_md.add_render_rule("table_open", _table_open)
_md.add_render_rule("table_close", _table_close)


def render_markdown(text: str | None) -> Markup:
    """HTML for a notice body. Anything that looks like HTML is shown as text, never interpreted."""
    return Markup(_md.render(text or ""))  # noqa: S704  (markdown-it escapes all input; html is off)


def plain_text(text: str | None) -> str:
    """The words of a body without any markup: what the Markdown renders as text (a table's cells, a
    link's words, a list's items), separated by spaces."""
    parts = []
    for token in _md.parse(text or ""):
        if token.type == "inline":
            parts.append("".join(child.content if child.type in ("text", "code_inline") else
                                 " " if child.type in ("softbreak", "hardbreak") else ""
                                 for child in token.children or ()))
    return " ".join(" ".join(parts).split())


SUMMARY_MEMO_ENTRIES = 4096
_summaries: dict[tuple[bytes, int], str] = {}
_summaries_lock = threading.Lock()


def plain_summary(text: str | None, limit: int = 120) -> str:
    """The first words of a body without Markdown punctuation, for lists and the feed.

    Remembered per worker by (digest of the text, limit): parsing the bodies was a third of a notice
    list's rendering, and the answer depends on nothing else (an edited body is another key, so nothing
    needs invalidating; the digest keeps a 20,000-character body out of memory)."""
    key = (hashlib.blake2b((text or "").encode(), digest_size=16).digest(), limit)
    summary = _summaries.get(key)
    if summary is None:
        words = plain_text(text)
        summary = words if len(words) <= limit else words[:limit].rstrip() + "…"
        with _summaries_lock:
            if len(_summaries) >= SUMMARY_MEMO_ENTRIES:
                _summaries.clear()
            _summaries[key] = summary
    return summary
