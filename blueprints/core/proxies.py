"""Forwarded headers, believed only from the proxies the site names (``TRUSTED_PROXIES``).

``TRUSTED_PROXIES`` is a comma-separated list of addresses or networks (``127.0.0.1, 10.0.0.0/24``).
A request whose peer (``REMOTE_ADDR``) is one of them has ``X-Forwarded-For`` (the last hop) and
``X-Forwarded-Proto`` applied, as werkzeug's ProxyFix does; from anyone else these headers are
removed before the application sees them, so a client cannot choose the address the login throttle
and the rate limits count, nor make the site think it was reached over HTTPS.

``X-Forwarded-Host`` (and ``-Port``, ``-Prefix``) are never believed: absolute addresses (the Atom
feed, QR codes, pass and sign-in links) come from ``PUBLIC_BASE_URL`` only (``core.qr.public_base``).

Default (app.py): the loopback addresses when ``HTTPS=1`` or ``BEHIND_PROXY`` is set (a proxy on the
same machine, the documented set-up), else nobody.
"""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
             "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


def parse_networks(value) -> tuple:
    if isinstance(value, str):
        value = value.split(",")
    networks = []
    for item in value or ():
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


class TrustedProxies:
    """WSGI middleware: ProxyFix(x_for=1, x_proto=1) for requests from a trusted proxy, and forwarded
    headers stripped from every other request (see the module doc)."""

    def __init__(self, app, trusted):
        self.app = app
        self.networks = parse_networks(trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def trusts(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        trusted = self.trusts(environ.get("REMOTE_ADDR"))
        for name in FORWARDED:
            if not trusted or name not in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO"):
                environ.pop(name, None)
        if trusted:
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
