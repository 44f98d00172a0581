def test_home_page_is_public_and_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "代表履职服务平台" in response.get_data(as_text=True)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_staff_logs_in_and_sees_the_roster(client, auth, users, make_deputy):
    make_deputy(name="李四", level="township")
    assert auth.login("staff").status_code == 302
    page = client.get("/registry/deputies/").get_data(as_text=True)
    assert "李四" in page


# ---- core knows no area: the areas register their menu entries, tiles and demo loaders -------------

def test_every_area_registers_itself_once_per_app(app):
    from app import AREAS, create_app
    from blueprints.core import areas

    registry = areas.registry(app)
    assert registry.names == list(AREAS)
    other = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert areas.registry(other) is not registry
    assert len(areas.registry(other).menu) == len(registry.menu)  # nothing doubled across apps
    assert [name for _order, name, _loader in sorted(registry.demo, key=lambda d: d[0])] == [
        "registry", "stations", "duties", "stations-drive", "ballots", "suggestions", "motions", "notifications"]


def test_the_menu_is_what_the_areas_registered(client, auth, users):
    public = client.get("/").get_data(as_text=True)
    for href, label in (("/notices/", "公示"), ("/deputies/", "找代表"), ("/stations/", "联络站")):
        assert f'<a href="{href}">{label}</a>' in public
    assert "代表名册" not in public and '<a href="/login">登录</a>' in public
    auth.login("staff")
    page = client.get("/workspace/").get_data(as_text=True)
    nav = page[page.index('<nav class="main-nav"'):page.index("</nav>")]
    order = [nav.index(label) for label in ("公示", "找代表", "民生实事", "代表建议", "工作台", "代表名册",
                                            "公示管理", "操作日志")]
    assert order == sorted(order)
    assert "账号管理" not in nav  # the administrator's entry only
    tiles = page[page.index('<ul class="tiles">'):]
    for endpoint_path in ("/registry/deputies/", "/registry/deputies/import", "/audit/"):
        assert f'href="{endpoint_path}"' in tiles


# ---- one download helper --------------------------------------------------------------------------

def test_downloads_keep_the_chinese_file_name():
    import re
    from urllib.parse import unquote

    from blueprints.core.downloads import content_disposition

    header = content_disposition("代表名册-2026-03-01.xlsx")
    assert header.isascii() and header.startswith("attachment;")
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", header).group(1)) == "代表名册-2026-03-01.xlsx"
    assert re.search(r'filename="([^"]+)"', header).group(1).endswith(".xlsx")
    assert content_disposition("会议通知.pdf", inline=True).startswith("inline;")
    assert '"download.pdf"' in content_disposition("会议通知.pdf")  # no name left: a neutral ASCII one
    assert "\n" not in content_disposition("a\r\nSet-Cookie: x.txt")  # no header injection
