"""Security headers, cookies, no inline scripts, CSRF (form field and HTMX header), Chinese error pages,
and over-long input that is refused without changing anything."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry, LoginAttempt
from blueprints.registry.models import Deputy
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_login_per_request")  # conftest: an empty flask.g per request

TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def logged_in(client) -> bool:
    return client.get("/workspace/").status_code == 200


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---- headers and cookies ---------------------------------------------------------------------

def test_security_headers_on_the_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = {part.strip().split()[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives["default-src"] == "default-src 'self'"
    assert directives["frame-ancestors"] in ("frame-ancestors 'none'", "frame-ancestors 'self'")
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/healthz", "/static/css/site.css"])
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, users):
    response = auth.login("staff")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("dp_session="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # plain http in tests; HTTPS=1 turns Secure on


# ---- no inline script ------------------------------------------------------------------------

class ScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_handlers: list[str] = []
        self.style_attributes: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.inline_handlers.append(f"<{tag} {name}>")
            if name == "style":
                self.style_attributes.append(f"<{tag} style={value!r}>")
            if isinstance(value, str) and value.strip().lower().startswith("javascript:"):
                self.inline_handlers.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self.scripts.append({"attrs": attrs, "body": ""})
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1]["body"] += data


PAGES = ["/", "/login", "/no-such-page", "/workspace/", "/account/password", "/registry/deputies/",
         "/registry/deputies/new", "/audit/", "/admin/users/", "/admin/users/new"]


def test_pages_have_no_inline_script_or_style(client, auth, users):
    checked = []
    for path in PAGES[:3]:
        checked.append((path, client.get(path)))
    auth.login("admin")
    for path in PAGES[2:]:
        checked.append((path, client.get(path)))
    for path, response in checked:
        assert response.status_code in (200, 404), path
        finder = ScriptFinder()
        finder.feed(response.get_data(as_text=True))
        assert finder.scripts, f"{path}: expected the htmx <script src>"
        for script in finder.scripts:
            assert script["attrs"].get("src"), f"{path}: <script> without src"
            assert not script["body"].strip(), f"{path}: <script> with a body"
        assert not finder.inline_handlers, f"{path}: inline handlers {finder.inline_handlers}"
        assert not finder.style_attributes, f"{path}: style attributes {finder.style_attributes}"


def test_htmx_is_vendored_and_served_from_our_own_origin(client):
    page = client.get("/").get_data(as_text=True)
    src = re.search(r'<script src="([^"]+htmx[^"]+)"', page).group(1)
    assert src.startswith("/static/vendor/htmx-2.")
    assert client.get(src).status_code == 200


# ---- CSRF ------------------------------------------------------------------------------------

@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def token_from(page: str) -> str:
    return TOKEN_FIELD.search(page).group(1)


def test_login_without_csrf_token_is_refused_in_chinese(csrf_app, client, users):
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "页面已过期" in page or "安全令牌" in page
    assert "CSRF" not in page
    assert not logged_in(client)
    assert count(LoginAttempt) == 0


def test_login_with_a_wrong_csrf_token_is_refused(csrf_app, client, users):
    client.get("/login")
    response = client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert not logged_in(client)


def test_login_with_the_forms_csrf_token_works(csrf_app, client, users):
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert logged_in(client)


def test_htmx_header_token_is_accepted(csrf_app, client, users):
    # The X-CSRFToken header stands in for the form field...
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "staff", "password": PASSWORD},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302
    assert logged_in(client)

    # ...and base.html hands htmx the token for every request it sends.
    page = client.get("/workspace/").get_data(as_text=True)
    hx_headers = json.loads(re.search(r"hx-headers='([^']+)'", page).group(1))
    assert hx_headers["X-CSRFToken"]
    response = client.post("/logout", headers={"X-CSRFToken": hx_headers["X-CSRFToken"], "HX-Request": "true"})
    assert response.status_code == 302
    assert not logged_in(client)


def test_logout_without_csrf_token_keeps_the_user_logged_in(csrf_app, client, users):
    token = token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    response = client.post("/logout")
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert logged_in(client)


def test_htmx_request_without_token_gets_a_chinese_fragment(csrf_app, client, users):
    response = client.post("/login", data={"username": "staff", "password": PASSWORD},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "安全令牌" in page
    assert "<html" not in page


def test_staff_form_without_csrf_token_writes_nothing(csrf_app, client, users):
    token = token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    deputies, entries = count(Deputy), count(AuditEntry)
    response = client.post("/registry/deputies/new", data={"name": "王五", "level": "county", "gender": "",
                                                           "area_id": 0, "station_id": 0, "group_id": 0})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert (count(Deputy), count(AuditEntry)) == (deputies, entries)


# ---- error pages -----------------------------------------------------------------------------

def test_404_page_is_chinese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "页面不存在" in page and '<html lang="zh-CN">' in page
    assert "Not Found" not in page


def test_404_for_htmx_is_a_fragment(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "页面不存在" in page and "<html" not in page


def test_403_page_is_chinese(client, auth, users):
    auth.login("deputy")
    response = client.get("/audit/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "没有权限" in page
    assert "Forbidden" not in page


def test_405_page_is_chinese(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    page = response.get_data(as_text=True)
    assert "请求方式不允许" in page
    assert "Method Not Allowed" not in page


def test_413_page_is_chinese_and_nothing_happens(app, client, users):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "staff", "password": PASSWORD, "filler": "x" * 4096})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "文件太大" in page or "超过大小限制" in page
    assert "Request Entity Too Large" not in page
    assert not logged_in(client)


def test_413_on_a_staff_form_writes_nothing(app, client, auth, users):
    auth.login("staff")
    deputies = count(Deputy)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/registry/deputies/new", data={
        "name": "王五", "level": "county", "gender": "", "area_id": 0, "station_id": 0, "group_id": 0,
        "occupation": "很长" * 2000})
    assert response.status_code == 413
    assert "超过大小限制" in response.get_data(as_text=True)
    assert count(Deputy) == deputies


def test_500_page_is_chinese_and_rolls_back(app, client):
    from blueprints.core.models import Area

    def broken():
        db.session.add(Area(name="半途而废", kind="county"))
        db.session.flush()
        raise RuntimeError("boom")

    app.add_url_rule("/test-broken", "test_broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/test-broken")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "服务器出错" in page and "boom" not in page
    assert count(Area) == 0


# ---- over-long input -------------------------------------------------------------------------

def test_overlong_username_at_login_gets_a_chinese_message(client, users):
    response = client.post("/login", data={"username": "a" * 200, "password": PASSWORD})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "不能超过 64 个字符" in page
    assert "Field cannot be longer" not in page
    assert not logged_in(client)
    assert count(LoginAttempt) == 0


def test_overlong_deputy_name_gets_a_chinese_message_and_changes_nothing(client, auth, users):
    auth.login("staff")
    deputies, entries = count(Deputy), count(AuditEntry)
    response = client.post("/registry/deputies/new", data={
        "name": "张" * 33, "level": "county", "gender": "", "area_id": 0, "station_id": 0, "group_id": 0})
    assert response.status_code == 422
    assert "不能超过 32 个字符" in response.get_data(as_text=True)
    assert (count(Deputy), count(AuditEntry)) == (deputies, entries)

    # The longest allowed name is stored whole.
    response = client.post("/registry/deputies/new", data={
        "name": "张" * 32, "level": "county", "gender": "", "area_id": 0, "station_id": 0, "group_id": 0})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Deputy).where(Deputy.name == "张" * 32)) == 1


# ---- numbers in URLs and query strings --------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/registry/deputies/99999999999999999999",
    "/registry/deputies/2147483648/edit",
    "/registry/groups/99999999999999999999",
    "/notices/99999999999999999999",
    "/deputies/99999999999999999999",
    "/stations/99999999999999999999",
])
def test_huge_ids_in_paths_are_not_found(client, auth, users, path):
    auth.login("staff")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["page=²", "page=0", "page=-1", "page=99999999999999999999", "page=abc"])
def test_bad_page_numbers_are_not_found(client, query):
    assert client.get(f"/notices/?{query}").status_code == 404


@pytest.mark.parametrize("query", ["area_id=²", "area_id=99999999999999999999", "group_id=¹²", "station_id=x"])
def test_bad_filter_ids_are_ignored(client, auth, users, query):
    auth.login("staff")
    assert client.get(f"/registry/deputies/?{query}").status_code == 200
    assert client.get(f"/notices/?{query}").status_code == 200
    assert client.get(f"/audit/?object_id={query.split('=')[1]}").status_code == 200
