"""Irreversible steps ask once (提交建议, 关闭投票, 发布结果, 终止代表资格 ...).

Without JavaScript the step's button is a link to ``GET <step URL>``: a plain confirmation page saying
what will happen, with one POST button (``confirm_page``). With JavaScript the same link carries
``hx-post`` + ``hx-confirm`` (templates/_macros/confirm.html): the browser asks, htmx posts, and the
step's redirect comes back as ``HX-Redirect`` (``htmx_navigate``) so the whole page moves on.
A step with fields (终止代表资格: date, reason) posts its form first; the page answers with the
confirmation page carrying the values (``confirmed`` not yet set), and only the second POST acts."""
from __future__ import annotations

from flask import make_response, render_template

from .htmx import is_htmx


def confirm_page(title: str, consequences: list[str], action_url: str, button: str, cancel_url: str,
                 *, fields: dict | None = None, danger: bool = False, status: int = 200):
    """The confirmation page: the title, what will happen (and that it cannot be undone), the POST
    button (with ``fields`` as hidden inputs and ``confirmed=1``) and a way back."""
    return render_template("core/confirm.html", title=title, consequences=consequences, action_url=action_url,
                           button=button, cancel_url=cancel_url, fields=fields or {}, danger=danger), status


def htmx_navigate(response):
    """An htmx POST (from a confirm link) answered by a redirect: tell htmx to load that page instead of
    following the redirect inside the XHR and swapping a whole page into the link."""
    if is_htmx() and response.status_code in (301, 302, 303):
        answer = make_response("", 204)
        answer.headers["HX-Redirect"] = response.location
        return answer
    return response
