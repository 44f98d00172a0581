"""One QR maker for the whole site (segno, SVG), and the public address printed codes point at.

``PUBLIC_BASE_URL`` (config, e.g. ``https://rd.example.gov.cn``) is the scheme and host every absolute
address points at (QR codes, the Atom feed, pass and sign-in links), so that codes printed from an office
machine lead to the real public site. It never comes from the request: a forged ``Host`` or
``X-Forwarded-Host`` cannot put another site into a cached feed or a QR code. Unset, it is
``http://localhost`` (``python app.py`` sets it to the address it listens on).
"""
from __future__ import annotations

import io

import segno
from flask import current_app, make_response, url_for

from .downloads import SVG, content_disposition


def public_base() -> str:
    """The configured scheme and host, without a trailing slash (see the module doc)."""
    return ((current_app.config.get("PUBLIC_BASE_URL") or "").strip() or "http://localhost").rstrip("/")


def public_url(endpoint: str, **values) -> str:
    """The absolute public address of a page, on PUBLIC_BASE_URL."""
    return public_base() + url_for(endpoint, **values)


def qr_svg(url: str) -> bytes:
    """A QR code (error correction M) as SVG with a size and a viewBox, so that it scales on a page."""
    qr = segno.make(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=8, border=4, light="#fff", title=url)
    width, height = qr.symbol_size(scale=8, border=4)
    return buffer.getvalue().replace(b"<svg ", f'<svg viewBox="0 0 {width} {height}" '.encode(), 1)


def svg_response(svg: bytes | str, filename: str | None = None, max_age: int = 3600, cache: str | None = None):
    """An SVG image (a QR code, an avatar); with ``filename``, offered as a download under that name.
    ``cache`` replaces the default ``public, max-age=...`` (e.g. ``no-store`` for a secret link)."""
    response = make_response(svg)
    response.headers["Content-Type"] = SVG
    response.headers["Cache-Control"] = cache or f"public, max-age={max_age}"
    if filename:
        response.headers["Content-Disposition"] = content_disposition(filename)
    return response


def qr_response(url: str, filename: str | None = None, max_age: int = 3600, cache: str | None = None):
    """The QR code of ``url`` as an SVG answer (a download when ``filename`` is given)."""
    return svg_response(qr_svg(url), filename, max_age, cache)
