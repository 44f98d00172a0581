"""A small, safe Markdown subset for notice bodies: no raw HTML, no images, only safe link schemes."""
from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Images would load from other hosts (and the CSP blocks them anyway): attach files instead.
_md.disable(["image", "html_block", "html_inline"])
SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


def _validate_link(url: str) -> bool:
    # markdown-it already refuses javascript:, vbscript:, file: and data:; allow only what we know.
    return url.strip().lower().startswith(SAFE_SCHEMES)


_md.validateLink = _validate_link


def _link_open(renderer, tokens, idx, options, env):
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


_md.add_render_rule("link_open", _link_open)


def render_markdown(text: str | None) -> Markup:
    """HTML for a notice body. Anything that looks like HTML is shown as text, never interpreted."""
    return Markup(_md.render(text or ""))  # noqa: S704  (markdown-it escapes all input; html is off)


def plain_summary(text: str | None, limit: int = 120) -> str:
    """The first words of a body without Markdown punctuation, for lists and the feed."""
    words = " ".join((text or "").replace("#", " ").replace("*", " ").replace("`", " ").split())
    return words if len(words) <= limit else words[:limit].rstrip() + "…"
