"""The simple HTML part of an e-mail (the plain text part is the body itself)."""
from __future__ import annotations

from markupsafe import escape


def email_html(message) -> str:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in message.body.split("\n") if line.strip())
    link = f'<p><a href="{escape(message.link)}">{escape(message.link)}</a></p>' if message.link else ""
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
            f'<body style="font-family:sans-serif;line-height:1.6"><h2>{escape(message.subject)}</h2>'
            f'{paragraphs}{link}<hr><p style="color:#666">代表履职服务平台</p></body></html>')
