"""代表履职服务平台: application factory and the ``python app.py`` entry point."""
from __future__ import annotations

import argparse
import importlib
import os
import secrets
import sys
from pathlib import Path

from flask import Flask

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE = BASE_DIR / "instance"
# The areas, in the order their blueprints register; "site" composes the public home and directory.
AREAS = ("registry", "noticeboard", "site", "stations", "kiosk", "duties", "ballots", "suggestions",
         "motions", "notifications")


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else a key kept in instance/ so that restarts and
    several workers on one machine share it (nothing lives only in process memory)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _private_database_files(uri: str) -> None:
    """A SQLite database file (and its -wal and -shm, which SQLite creates with the database file's
    mode) readable by the owner only, like secret_key: it holds who voted and, until a ballot closes,
    the sealed votes. Created empty here if absent, so that it never exists with the umask's mode."""
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or \
            url.database.startswith("file:"):
        return
    path = Path(url.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            file.chmod(0o600)


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{DEFAULT_INSTANCE / 'platform.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 10 * 1024 * 1024))
    SESSION_COOKIE_NAME = "dp_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Set HTTPS=1 when the site is served over HTTPS (behind a proxy that sets X-Forwarded-Proto).
    SESSION_COOKIE_SECURE = os.environ.get("HTTPS") == "1"
    PREFERRED_URL_SCHEME = "https" if os.environ.get("HTTPS") == "1" else "http"
    IDLE_TIMEOUT_MINUTES = int(os.environ.get("IDLE_TIMEOUT_MINUTES", 30))
    # Scheme and host of every absolute address the site makes (QR codes, the Atom feed, sign-in and
    # pass links, e-mails), whatever Host or X-Forwarded-Host a request names (core/qr.py).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    # Addresses/networks whose X-Forwarded-For/-Proto are believed (core/proxies.py); default: loopback
    # when HTTPS=1 or BEHIND_PROXY=1 (a proxy on the same machine), else nobody.
    TRUSTED_PROXIES = os.environ.get(
        "TRUSTED_PROXIES",
        "127.0.0.1,::1" if os.environ.get("HTTPS") == "1" or os.environ.get("BEHIND_PROXY") == "1" else "")
    # Public pages are kept in each worker's memory for at most this long (blueprints/core/pagecache.py).
    PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", 30))
    # List totals and filter choices of public pages, per worker, as long as public content is unchanged
    # (core/publicfacts.py); 0 turns it off.
    PUBLIC_FACTS_SECONDS = int(os.environ.get("PUBLIC_FACTS_SECONDS", 30))
    # The year's duty ranking, per worker, as long as nothing it is computed from has changed
    # (duties/scoring.py, core/counters.py); 0 turns it off.
    STANDINGS_MEMO_SECONDS = int(os.environ.get("STANDINGS_MEMO_SECONDS", 300))
    # Sign-in throttling (core/accounts.py): per (account, address), LOGIN_FREE_ATTEMPTS tries, then each
    # further one waits LOGIN_DELAY_SECONDS, doubling up to LOGIN_MAX_DELAY_SECONDS; an account failing
    # LOGIN_ACCOUNT_SLOW_AFTER times an hour from all addresses gives each address one free try only.
    # The owner's correct password from an address without failures is always checked.
    LOGIN_FREE_ATTEMPTS = 3
    LOGIN_DELAY_SECONDS = 10
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    LOGIN_ACCOUNT_SLOW_AFTER = 50
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20  # any accounts, per LOGIN_LOCK_MINUTES
    LOGIN_LOCK_MINUTES = 15
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "database://")  # core/ratelimit.py
    RATELIMIT_HEADERS_ENABLED = True
    MESSAGE_RATE_LIMIT = "10 per hour"  # /messages/new and the kiosk form, per address
    MESSAGE_REPLY_DAYS = 15  # a message's expected reply date until a unit has a deadline (tracking page)
    TRACK_RATE_LIMIT = "30 per hour"  # receipt-code lookups, per address: no enumeration
    # Answers to one 述职 assessment (/assess/<token>) from one address; raise it for a hall whose voters
    # share one Wi-Fi address.
    ASSESS_RATE_LIMIT = "20 per day"
    # Admin accounts must set up a TOTP second factor at their next sign-in (core/totp.py); `python app.py
    # --demo` turns this off so that the demo's admin signs in with its password alone.
    TOTP_REQUIRED_FOR_ADMINS = os.environ.get("TOTP_REQUIRED_FOR_ADMINS", "1") == "1"
    KIOSK_IDLE_SECONDS = 90
    KIOSK_POLL_SECONDS = 60
    HOLIDAYS: tuple = ()  # ISO dates; reception days falling on one move to the next working day
    ROSTER_IMPORT_MAX_ROWS = 50_000
    # The site's names and the office's contact, shown in the header, the <title> and the footer
    # (core/web.py site_identity). SITE_NAME and OFFICE_NAME default to names built from COUNTY_NAME,
    # e.g. COUNTY_NAME=青山县 → 青山县人大常委会代表履职服务平台, 青山县人大常委会代表工作委员会.
    COUNTY_NAME = os.environ.get("COUNTY_NAME", "")
    SITE_NAME = os.environ.get("SITE_NAME", "")
    OFFICE_NAME = os.environ.get("OFFICE_NAME", "")
    OFFICE_ADDRESS = os.environ.get("OFFICE_ADDRESS", "")
    # The office's phone, named on the 忘记密码 page, in the footer and when a one-time password is refused.
    OFFICE_PHONE = os.environ.get("OFFICE_PHONE", "")
    # A deputy's username when accounts are issued: "phone" (手机号) or "code" (代表编号); the other one
    # is used when a deputy has no phone (or no code). A deputy may sign in with either.
    DEPUTY_USERNAME = os.environ.get("DEPUTY_USERNAME", "phone")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(DEFAULT_INSTANCE),
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    county = app.config.get("COUNTY_NAME") or ""
    app.config["SITE_NAME"] = app.config.get("SITE_NAME") or (
        f"{county}人大常委会代表履职服务平台" if county else "代表履职服务平台")
    app.config["OFFICE_NAME"] = app.config.get("OFFICE_NAME") or f"{county or '县'}人大常委会代表工作委员会"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    _private_database_files(app.config["SQLALCHEMY_DATABASE_URI"])

    from blueprints.core.proxies import TrustedProxies

    # Forwarded headers only from TRUSTED_PROXIES; X-Forwarded-Host never (core/proxies.py).
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config.get("TRUSTED_PROXIES"))

    from blueprints.core.extensions import babel, csrf, db, limiter, login_manager, migrate
    from blueprints.core.web import BoundedIntConverter

    # Before any blueprint registers its rules: /x/99999999999999999999 is a 404, not an overflow.
    app.url_map.converters["int"] = BoundedIntConverter
    from blueprints.core.timeutil import LOCAL_TZ

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, default_timezone=str(LOCAL_TZ))
    limiter.init_app(app)
    login_manager.init_app(app)

    from blueprints.core import web

    web.init_app(app)

    import blueprints.core.cases  # noqa: F401  (the shared case workflow's models)
    from blueprints.core import views as core_views

    core_views.register(app)
    # Core knows no area: each area registers its blueprints, CLI, menu entries, workspace tiles and
    # demo loader itself (blueprints/<area>/__init__.py, core/areas.py). The order is the URL map's.
    for name in AREAS:
        importlib.import_module(f"blueprints.{name}").register(app)
    return app


DEMO_IDENTITY = {"COUNTY_NAME": "青山县", "OFFICE_PHONE": "0561-6012345",
                 "OFFICE_ADDRESS": "青山县城关镇人民路1号县人大常委会办公楼"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="代表履职服务平台: upgrades the database to the latest migration and serves the site.",
    )
    parser.add_argument("--demo", action="store_true", help="load the demo county when the database is empty")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy database URL (default: $DATABASE_URL, else SQLite in instance/platform.db), "
        "e.g. postgresql+psycopg://user:pass@localhost/platform",
    )
    parser.add_argument("--debug", action="store_true", help="Flask debug mode with auto reload")
    args = parser.parse_args(argv)

    config = {"SQLALCHEMY_DATABASE_URI": args.database} if args.database else {}
    if args.demo:  # the demo county's names, unless the environment names another
        for key, value in DEMO_IDENTITY.items():
            if not os.environ.get(key):
                config[key] = value
    if args.demo and "TOTP_REQUIRED_FOR_ADMINS" not in os.environ:
        config["TOTP_REQUIRED_FOR_ADMINS"] = False
    if not os.environ.get("PUBLIC_BASE_URL"):  # the demo's QR codes and links lead to where it listens
        config["PUBLIC_BASE_URL"] = f"http://{args.host}:{args.port}"
    app = create_app(config)
    from blueprints.core.setup import prepare_database

    with app.app_context():
        prepare_database(load_demo=args.demo, out=sys.stdout)
    print(f"{app.config['SITE_NAME']}: http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
