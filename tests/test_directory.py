"""The public directory (/deputies/, /stations/): what constituents see, what they must never see,
photos, QR codes and the query budget."""
from __future__ import annotations

import re
import struct
import sys
import types
import zlib
from contextlib import contextmanager
from datetime import UTC, date, datetime
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from sqlalchemy import event, func, select

from blueprints.core.extensions import db
from blueprints.core.models import AuditEntry
from blueprints.core.qr import qr_svg
from blueprints.registry.models import Deputy, DeputyGroup, DeputyPhoto, GroupMembership, Station

PHONE = "13912345678"
CODE = "QS-2026-0042"
SVG_NS = "{http://www.w3.org/2000/svg}"
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def text(response) -> str:
    return response.get_data(as_text=True)


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A real (tiny) PNG: signature, IHDR, IDAT, IEND."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@contextmanager
def count_queries():
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not TRANSACTION_CONTROL.match(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def queries_for(client, url: str, **kwargs) -> int:
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return len(statements)


def photo_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DeputyPhoto))


def photo_audits() -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.summary.startswith("更换代表照片")).order_by(AuditEntry.id)
    ).all()


@pytest.fixture
def people(county, make_deputy):
    """Serving deputies in both townships and groups, one ended deputy, one deputy with a phone and a code."""
    town_a, town_b = county["townships"]
    home, liaison_station = county["stations"]
    regional, professional = county["groups"]
    wang = make_deputy(name="王建国", level="county", area=town_a, station=home, phone=PHONE, code=CODE,
                       term="第十八届", constituency="城关镇第3选区", occupation="城关镇中心学校校长")
    li = make_deputy(name="李秀英", level="township", area=town_b, station=liaison_station,
                     constituency="临涣镇第1选区")
    zhao = make_deputy(name="赵德明", level="city", area=town_a)
    ended = make_deputy(name="钱已卸", level="county", area=town_a, station=home,
                        ended_on=date(2025, 3, 1), end_reason="resigned", end_note="个人原因")
    db.session.add_all([
        GroupMembership(group=regional, deputy=wang, role="leader"),
        GroupMembership(group=professional, deputy=wang, role="member"),
        GroupMembership(group=professional, deputy=zhao, role="vice_leader"),
    ])
    db.session.commit()
    return {"wang": wang, "li": li, "zhao": zhao, "ended": ended}


@pytest.fixture
def staff(client, auth, users):
    assert auth.login("staff").status_code == 302
    return users["staff"]


# ---- the deputy directory --------------------------------------------------------------------

def test_directory_lists_serving_deputies_and_no_private_field(client, people):
    response = client.get("/deputies/")
    assert response.status_code == 200
    page = text(response)
    for name in ("王建国", "李秀英", "赵德明"):
        assert name in page
    assert "钱已卸" not in page
    assert "共 3 条" in page
    assert "城关镇中心学校校长" in page  # 工作单位及职务 is public
    for url in ("/deputies/", "/deputies/?q=王", f"/deputies/{people['wang'].id}"):
        for headers in ({}, {"HX-Request": "true"}):
            body = text(client.get(url, headers=headers))
            assert PHONE not in body, url
            assert CODE not in body, url
    fragment = text(client.get("/deputies/", headers={"HX-Request": "true"}))
    assert "王建国" in fragment and "钱已卸" not in fragment


def test_directory_search_and_filters(client, people, county):
    town_a, town_b = county["townships"]
    regional, professional = county["groups"]

    def names(query: str) -> set[str]:
        response = client.get(f"/deputies/?{query}")
        assert response.status_code == 200, query
        return {n for n in ("王建国", "李秀英", "赵德明", "钱已卸") if n in text(response)}

    assert names("q=秀") == {"李秀英"}
    assert names("q=已卸") == set()  # an ended deputy is not found either
    assert names("q=%25") == set()  # a typed % is text, not a wildcard
    assert names("q=13912345678") == set()  # no search by phone
    assert names(f"q={CODE}") == set()  # nor by the private 代表编号
    assert names("level=township") == {"李秀英"}
    assert names("level=city") == {"赵德明"}
    assert names(f"area_id={town_a.id}") == {"王建国", "赵德明"}
    assert names(f"area_id={town_b.id}") == {"李秀英"}
    assert names(f"group_id={professional.id}") == {"王建国", "赵德明"}
    assert names(f"group_id={regional.id}&level=county") == {"王建国"}
    assert names(f"group_id={professional.id}&area_id={town_b.id}") == set()
    # Unknown or malformed values are no filter, never an error.
    everyone = {"王建国", "李秀英", "赵德明"}
    for query in ("level=mayor", "area_id=abc", "group_id=%C2%B2", "area_id=-1", "group_id=1.5",
                  "area_id=99999999999999999999", "level=&area_id=&group_id=&q="):
        assert names(query) == everyone, query


def test_directory_filter_form_works_without_javascript(client, people, county):
    page = text(client.get(f"/deputies/?area_id={county['townships'][0].id}&level=county"))
    assert 'method="get"' in page and 'action="/deputies/"' in page
    assert 'name="q"' in page and 'name="area_id"' in page and 'name="level"' in page and 'name="group_id"' in page
    assert f'<option value="{county["townships"][0].id}" selected>' in page
    assert '<option value="county" selected>' in page
    assert "城关镇代表小组" in page and "法制监督专业代表小组" in page


def test_htmx_gets_the_fragment_and_history_restore_the_page(client, people):
    response = client.get("/deputies/?q=王", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and "王建国" in body and "李秀英" not in body
    assert "HX-Request" in response.headers["Vary"]

    full = client.get("/deputies/?q=王")
    assert "<html" in text(full) and "HX-Request" in full.headers["Vary"]
    restore = client.get("/deputies/?q=王", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in text(restore) and 'id="deputy-rows"' in text(restore)


def test_directory_pagination(client, make_deputy):
    for i in range(25):
        make_deputy(name=f"代表{i:02d}")
    first = text(client.get("/deputies/"))
    assert "第 1 / 2 页" in first and "代表00" in first and "代表24" not in first
    second = text(client.get("/deputies/?page=2"))
    assert "代表24" in second and "代表00" not in second
    for page in ("3", "0", "abc", "%C2%B2", "99999999999999999999"):
        response = client.get(f"/deputies/?page={page}")
        assert response.status_code == 404, page
        assert "页面不存在" in text(response)
    assert client.get("/deputies/?page=3", headers={"HX-Request": "true"}).status_code == 404


# ---- profiles --------------------------------------------------------------------------------

def test_profile_shows_public_fields(client, people, county):
    wang = people["wang"]
    response = client.get(f"/deputies/{wang.id}")
    assert response.status_code == 200
    page = text(response)
    assert "王建国" in page and "县(区)人大代表" in page and "第十八届" in page
    assert "城关镇第3选区" in page and "城关镇中心学校校长" in page and "城关镇" in page
    assert "城关镇代表小组" in page and "（组长）" in page and "法制监督专业代表小组" in page
    assert f'href="/stations/{county["stations"][0].id}"' in page
    assert f'src="/deputies/{wang.id}/photo"' in page
    assert f'src="/deputies/{wang.id}/message-qr.svg"' in page  # the printed code opens 给代表留言
    assert "履职情况" in page and "暂无经核实的履职活动记录" in page
    assert PHONE not in page and CODE not in page and "手机" not in page and "代表编号" not in page
    assert "已终止" not in page
    assert 'type="file"' not in page  # the upload form is for staff only


def test_profile_of_an_ended_deputy(client, people):
    ended = people["ended"]
    page = text(client.get(f"/deputies/{ended.id}"))
    assert "钱已卸" in page and "已终止" in page and "2025年3月1日" in page
    assert "个人原因" not in page  # the note is internal
    assert "钱已卸" not in text(client.get("/deputies/"))


def test_unknown_profile_is_404(client, people):
    for url in ("/deputies/999999", "/deputies/99999999999999999999", "/deputies/999999/photo",
                "/deputies/999999/qr.svg", "/deputies/abc"):
        response = client.get(url)
        assert response.status_code == 404, url
    assert "页面不存在" in text(client.get("/deputies/999999"))


# ---- photos ----------------------------------------------------------------------------------

def test_placeholder_avatar_is_escaped_svg(client, make_deputy):
    deputy = make_deputy(name="<script>alert(1)</script>")
    response = client.get(f"/deputies/{deputy.id}/photo")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    body = text(response)
    assert "<script" not in body
    root = ElementTree.fromstring(body)
    assert root.tag == f"{SVG_NS}svg"
    assert root.find(f"{SVG_NS}text").text == "<"
    assert root.get("aria-label") == "<script>alert(1)</script>"

    chinese = make_deputy(name="王芳")
    assert ElementTree.fromstring(client.get(f"/deputies/{chinese.id}/photo").data).find(f"{SVG_NS}text").text == "王"


def upload(client, deputy_id: int, data: bytes, filename: str = "photo.png", content_type: str = "image/png",
           **kwargs):
    from io import BytesIO

    return client.post(f"/deputies/{deputy_id}/photo",
                       data={"photo": (BytesIO(data), filename, content_type), **kwargs.pop("form", {})},
                       content_type="multipart/form-data", **kwargs)


def test_staff_uploads_a_png(client, staff, people):
    wang = people["wang"]
    page = text(client.get(f"/deputies/{wang.id}"))
    assert 'type="file"' in page and 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page

    image = png_bytes(4, 3)
    response = upload(client, wang.id, image)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/deputies/{wang.id}")
    assert "照片已更新" in text(client.get(response.headers["Location"]))

    db.session.expire_all()
    photo = db.session.get(DeputyPhoto, wang.id)
    assert photo.content_type == "image/png" and photo.data == image
    [entry] = photo_audits()
    assert entry.action == "update" and entry.object_type == "deputy" and entry.object_id == wang.id
    assert entry.actor_name == "staff"

    client.post("/logout")
    served = client.get(f"/deputies/{wang.id}/photo")
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == image
    assert served.headers["Cache-Control"] == "public, max-age=3600"
    # The profile names the photo's version, so a replaced photo is not served from a cache.
    assert re.search(rf'src="/deputies/{wang.id}/photo\?v=\d+"', text(client.get(f"/deputies/{wang.id}")))


def test_staff_uploads_a_jpeg_over_an_earlier_photo(client, staff, people):
    wang = people["wang"]
    assert upload(client, wang.id, png_bytes()).status_code == 302
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100 + b"\xff\xd9"
    assert upload(client, wang.id, jpeg, "me.jpg", "image/jpeg").status_code == 302
    db.session.expire_all()
    assert photo_count() == 1
    assert db.session.get(DeputyPhoto, wang.id).content_type == "image/jpeg"
    assert len(photo_audits()) == 2


@pytest.mark.parametrize(("data", "message"), [
    (b"this is text, not a picture", "只能是 JPEG 或 PNG"),
    (b"GIF89a\x01\x00\x01\x00", "只能是 JPEG 或 PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), "不能超过 2 MB"),
    (b"", "请选择要上传的照片"),
])
def test_bad_photo_is_refused_and_nothing_changes(client, staff, people, data, message):
    wang = people["wang"]
    response = upload(client, wang.id, data, "photo.png", "image/png", follow_redirects=True)
    assert response.status_code == 200
    assert message in text(response)
    assert photo_count() == 0 and photo_audits() == []


def test_bad_photo_keeps_the_earlier_photo(client, staff, people):
    wang = people["wang"]
    image = png_bytes()
    upload(client, wang.id, image)
    upload(client, wang.id, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", "image/png")
    db.session.expire_all()
    assert db.session.get(DeputyPhoto, wang.id).data == image
    assert len(photo_audits()) == 1


def test_photo_upload_needs_staff(client, auth, users, people):
    wang = people["wang"]
    response = upload(client, wang.id, png_bytes())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for role in ("deputy", "liaison", "clerk", "unit"):
        auth.login(role)
        assert 'type="file"' not in text(client.get(f"/deputies/{wang.id}"))
        assert upload(client, wang.id, png_bytes()).status_code == 403, role
        auth.logout()
    assert photo_count() == 0 and photo_audits() == []
    auth.login("admin")
    assert upload(client, wang.id, png_bytes()).status_code == 302
    assert photo_count() == 1


def test_photo_upload_checks_the_csrf_token(app, client, staff, people):
    wang = people["wang"]
    page = text(client.get(f"/deputies/{wang.id}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    app.config["WTF_CSRF_ENABLED"] = True
    assert upload(client, wang.id, png_bytes()).status_code == 400
    assert photo_count() == 0
    assert upload(client, wang.id, png_bytes(), form={"csrf_token": token}).status_code == 302
    assert photo_count() == 1


# ---- QR codes --------------------------------------------------------------------------------

def test_qr_codes_are_svg_of_the_public_address(app, client, people, county):
    wang, station = people["wang"], county["stations"][0]
    for url, path in ((f"/deputies/{wang.id}/qr.svg", f"/deputies/{wang.id}"),
                      (f"/stations/{station.id}/qr.svg", f"/stations/{station.id}")):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        root = ElementTree.fromstring(response.data)
        assert root.tag == f"{SVG_NS}svg" and root.get("viewBox")
        assert root.find(f"{SVG_NS}title").text == f"http://localhost{path}"
        # The same symbol as the code of the absolute address (segno is deterministic).
        assert response.data == qr_svg(f"http://localhost{path}")
        assert "Content-Disposition" not in response.headers

        app.config["PUBLIC_BASE_URL"] = "https://rd.example.gov.cn/"
        public = client.get(url).data
        app.config["PUBLIC_BASE_URL"] = "https://daibiao.example.cn"
        other = client.get(url).data
        app.config.pop("PUBLIC_BASE_URL")
        assert public != response.data and other != public
        assert public == qr_svg(f"https://rd.example.gov.cn{path}")
        assert ElementTree.fromstring(other).find(f"{SVG_NS}title").text == f"https://daibiao.example.cn{path}"


def test_qr_download_has_a_chinese_file_name(client, people, county):
    response = client.get(f"/stations/{county['stations'][0].id}/qr.svg?download=1")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(encoded) == "联络站二维码-城关镇人大代表之家.svg"
    assert disposition.isascii()
    response = client.get(f"/deputies/{people['wang'].id}/qr.svg?download=1")
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", response.headers["Content-Disposition"]).group(1)) \
        == "代表二维码-王建国.svg"


def test_qr_of_unknown_or_inactive_station_is_404(client, county):
    station = county["stations"][1]
    station.active = False
    db.session.commit()
    assert client.get(f"/stations/{station.id}/qr.svg").status_code == 404
    assert client.get("/stations/999999/qr.svg").status_code == 404


# ---- stations --------------------------------------------------------------------------------

def test_stations_directory_by_township_without_inactive(client, county):
    town_a, town_b = county["townships"]
    home, liaison_station = county["stations"]
    home.address, home.opening_hours, home.contact_phone = "城关镇人民路1号", "周一至周五 8:30-17:30", "0557-1234567"
    db.session.add_all([
        Station(name="城关镇东街社区代表活动室", kind="room", area=town_a),
        Station(name="已撤销代表联络点", kind="point", area=town_b, active=False),
        Station(name="县经济开发区代表联络点", kind="point"),
    ])
    db.session.commit()

    page = text(client.get("/stations/"))
    assert "已撤销代表联络点" not in page
    for words in ("城关镇人民路1号", "周一至周五 8:30-17:30", 'href="tel:0557-1234567"', "代表之家", "代表活动室",
                  "代表联络站", "代表联络点"):
        assert words in page
    sections = re.findall(r'<section class="township" id="township-(\w+)"', page)
    assert sections == [str(town_b.id), str(town_a.id), "other"] or sections == [str(town_a.id), str(town_b.id),
                                                                                  "other"]
    town_a_section = page.split(f'id="township-{town_a.id}"')[1].split("</section>")[0]
    assert "城关镇人大代表之家" in town_a_section and "城关镇东街社区代表活动室" in town_a_section
    assert "临涣镇人大代表联络站" not in town_a_section
    other = page.split('id="township-other"')[1].split("</section>")[0]
    assert "县经济开发区代表联络点" in other


def test_station_page_lists_its_serving_deputies(client, people, county):
    home = county["stations"][0]
    home.address, home.opening_hours = "城关镇人民路1号", "每周三上午"
    db.session.commit()
    response = client.get(f"/stations/{home.id}")
    assert response.status_code == 200
    page = text(response)
    assert "城关镇人大代表之家" in page and "代表之家" in page and "城关镇人民路1号" in page and "每周三上午" in page
    assert f'href="/deputies/{people["wang"].id}"' in page and "王建国" in page
    assert "钱已卸" not in page  # ended
    assert "李秀英" not in page  # another station
    assert PHONE not in page
    assert "暂无接待日安排" in page
    assert f'src="/stations/{home.id}/qr.svg"' in page and f'href="/stations/{home.id}/qr.svg?download=1"' in page
    assert "打印二维码" in page


def test_inactive_or_unknown_station_is_404(client, county):
    station = county["stations"][1]
    station.active = False
    db.session.commit()
    assert client.get(f"/stations/{station.id}").status_code == 404
    assert client.get("/stations/999999").status_code == 404
    assert client.get("/stations/99999999999999999999").status_code == 404


def test_station_page_shows_its_notices(client, county, monkeypatch):
    home = county["stations"][0]
    seen = {}

    def public_notices_for_station(station, limit):
        seen["args"] = (station.id, limit)
        return [types.SimpleNamespace(id=7, title="三月接待日安排", category_label="接待安排",
                                      publish_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))]

    fake = types.ModuleType("blueprints.noticeboard.services")
    fake.public_notices_for_station = public_notices_for_station
    monkeypatch.setitem(sys.modules, "blueprints.noticeboard.services", fake)
    page = text(client.get(f"/stations/{home.id}"))
    assert seen["args"] == (home.id, 5)
    assert 'href="/notices/7"' in page and "三月接待日安排" in page and "接待安排" in page and "2026-03-01" in page


def test_deputy_profile_does_not_link_an_inactive_station(client, people, county):
    home = county["stations"][0]
    home.active = False
    db.session.commit()
    page = text(client.get(f"/deputies/{people['wang'].id}"))
    assert "城关镇人大代表之家" in page and f'href="/stations/{home.id}"' not in page


# ---- speed: a fixed number of queries ---------------------------------------------------------

def _spread(count: int, start: int, towns, stations, groups) -> None:
    for i in range(start, start + count):
        deputy = Deputy(name=f"代表{i:03d}", level=("county", "township", "city")[i % 3], area=towns[i % 2],
                        station=stations[i % 2], constituency=f"第{i}选区", occupation="职工")
        db.session.add(deputy)
        db.session.add(GroupMembership(group=groups[i % 2], deputy=deputy, role="member"))
        if i % 3 == 0:
            db.session.add(GroupMembership(group=groups[2], deputy=deputy, role="member"))
    db.session.commit()


def test_query_count_does_not_grow(client, county):
    towns, stations = county["townships"], county["stations"]
    groups = [county["groups"][0], DeputyGroup(name="临涣镇代表小组", kind="regional", area=towns[1]),
              county["groups"][1]]
    db.session.add(groups[1])
    db.session.commit()
    urls = ["/deputies/", "/deputies/?q=代表", f"/deputies/?area_id={towns[0].id}&level=county",
            f"/deputies/?group_id={groups[2].id}", "/stations/", f"/stations/{stations[0].id}"]

    _spread(5, 0, towns, stations, groups)
    first = db.session.scalar(select(Deputy.id).order_by(Deputy.id).limit(1))
    urls.append(f"/deputies/{first}")
    small = [queries_for(client, url) for url in urls]
    small_fragment = queries_for(client, "/deputies/?q=代表", headers={"HX-Request": "true"})

    _spread(35, 5, towns, stations, groups)
    assert "第 1 / 2 页" in text(client.get("/deputies/"))
    large = [queries_for(client, url) for url in urls]
    assert large == small, list(zip(urls, small, large, strict=True))
    assert max(small) <= 8, list(zip(urls, small, strict=True))
    assert queries_for(client, "/deputies/?q=代表", headers={"HX-Request": "true"}) == small_fragment <= small[1]


def test_station_page_shows_published_notices_only(client, county):
    from datetime import timedelta

    from blueprints.core.timeutil import utcnow
    from blueprints.noticeboard.models import Notice

    home, other = county["stations"]
    now = utcnow()
    db.session.add_all([
        Notice(category="reception", title="本站三月接待日", scope="station", station_id=home.id,
               publish_at=now - timedelta(hours=1)),
        Notice(category="reception", title="本站草稿公告", scope="station", station_id=home.id, publish_at=None),
        Notice(category="reception", title="别站的公告", scope="station", station_id=other.id,
               publish_at=now - timedelta(hours=1)),
    ])
    db.session.commit()
    published = db.session.scalar(select(Notice.id).where(Notice.title == "本站三月接待日"))
    page = text(client.get(f"/stations/{home.id}"))
    assert f'href="/notices/{published}"' in page and "本站三月接待日" in page
    assert "本站草稿公告" not in page and "别站的公告" not in page


def test_names_are_escaped_on_the_pages(client, make_deputy):
    deputy = make_deputy(name='<b>"x</b>')
    for url in (f"/deputies/{deputy.id}", "/deputies/?q=x", f"/deputies/{deputy.id}/qr.svg?download=1"):
        response = client.get(url)
        assert response.status_code == 200
        assert "<b>" not in text(response), url
