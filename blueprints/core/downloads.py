"""One way to send a file: the original (often Chinese) name survives every browser.

    return download(data, "代表名册-2026-03-01.xlsx", XLSX)                 # attachment
    return download(pdf, attachment.filename, "application/pdf", inline=True)

``Content-Disposition`` carries an ASCII fallback ``filename=`` (non-ASCII characters replaced) and
the real name as ``filename*=UTF-8''...`` (RFC 6266 / RFC 5987), which every current browser prefers.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG = "image/svg+xml; charset=utf-8"


def ascii_fallback(filename: str) -> str:
    """The name for old clients: ASCII letters, digits and -_. kept, everything else becomes _;
    the extension survives, so the file still opens with the right program."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    stem, dot, extension = fallback.rpartition(".")
    if dot and not stem.strip("_"):
        return f"download.{extension}"
    return fallback.strip() or "download"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment`` (or ``inline``) with an ASCII ``filename`` and the original as ``filename*``."""
    kind = "inline" if inline else "attachment"
    name = filename.replace("\r", "").replace("\n", "").replace("/", "_").replace("\\", "_")
    return f"{kind}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(data: bytes | str, filename: str, mimetype: str, *, inline: bool = False,
             cache: str | None = None) -> Response:
    """A response that saves (or, ``inline``, shows) ``data`` under ``filename``."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    if cache:
        response.headers["Cache-Control"] = cache
    return response
