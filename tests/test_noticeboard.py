"""Noticeboard: publication windows, versions, safe Markdown, attachments, public pages and the feed."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import event, func, select

from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import utcnow
from blueprints.noticeboard import services
from blueprints.noticeboard.markup import render_markdown
from blueprints.noticeboard.models import Notice, NoticeAttachment, NoticeVersion

ATOM = "{http://www.w3.org/2005/Atom}"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def notice(title="关于召开代表座谈会的通知", *, body="正文", category="notice", publish_at="now", take_down_at=None,
           **extra):
    now = utcnow()
    values = {"category": category, "title": title, "body": body, "scope": "county",
              "publish_at": now - timedelta(minutes=1) if publish_at == "now" else publish_at,
              "take_down_at": take_down_at, **extra}
    return services.create_notice(values)


def public_ids():
    return set(db.session.scalars(select(Notice.id).where(services.public_clause())))


# ---- publication windows ---------------------------------------------------------------------

def test_only_notices_inside_their_window_are_public(app):
    now = utcnow()
    published = notice("已发布")
    draft = notice("草稿", publish_at=None)
    scheduled = notice("定时", publish_at=now + timedelta(days=1))
    taken_down = notice("已撤下", publish_at=now - timedelta(days=2), take_down_at=now - timedelta(days=1))
    expiring = notice("将撤下", publish_at=now - timedelta(days=2), take_down_at=now + timedelta(days=1))
    assert public_ids() == {published.id, expiring.id}
    assert (draft.status(), scheduled.status(), taken_down.status()) == ("draft", "scheduled", "taken_down")


def test_take_down_before_publish_is_refused_and_nothing_is_written(app):
    now = utcnow()
    with pytest.raises(DomainError, match="撤下时间必须晚于发布时间"):
        notice(publish_at=now, take_down_at=now - timedelta(hours=1))
    with pytest.raises(DomainError, match="草稿不能设置撤下时间"):
        notice(publish_at=None, take_down_at=now + timedelta(hours=1))
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_the_database_also_refuses_a_bad_window(app):
    from sqlalchemy.exc import IntegrityError

    now = utcnow()
    db.session.add(Notice(category="notice", title="x", body="", scope="county", publish_at=now,
                          take_down_at=now - timedelta(hours=1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_publish_now_and_take_down(app, users):
    draft = notice(publish_at=None)
    services.publish_now(draft, users["staff"])
    assert draft.is_public()
    services.take_down(draft, users["staff"], "信息有误")
    assert draft.status() == "taken_down"
    with pytest.raises(DomainError):
        services.take_down(draft)
    with pytest.raises(DomainError, match="撤下后不能重新发布"):
        services.publish_now(draft)


def test_only_drafts_can_be_deleted(app):
    published = notice()
    with pytest.raises(DomainError, match="只有草稿可以删除"):
        services.delete_draft(published)
    draft = notice("草稿", publish_at=None)
    services.delete_draft(draft)
    assert db.session.get(Notice, draft.id) is None


def test_an_edit_after_publication_keeps_the_earlier_version(app, users):
    item = notice(body="原文：会议定于 3 月 5 日召开。")
    first_published = item.publish_at
    values = {"category": "notice", "title": item.title, "body": "更正：会议改为 3 月 6 日召开。",
              "scope": "county", "publish_at": utcnow() + timedelta(days=3)}
    services.update_notice(item, values, users["staff"])
    assert item.version == 2 and item.revised_at is not None
    assert item.publish_at == first_published  # a published notice's date does not move
    old = db.session.scalar(select(NoticeVersion).where(NoticeVersion.notice_id == item.id))
    assert old.version == 1 and "3 月 5 日" in old.body


def test_editing_a_draft_keeps_no_versions(app):
    draft = notice(publish_at=None)
    services.update_notice(draft, {"category": "notice", "title": "新标题", "body": "新正文", "scope": "county"})
    assert draft.version == 1 and draft.revised_at is None
    assert db.session.scalar(select(func.count()).select_from(NoticeVersion)) == 0


def test_publish_notice_from_another_area_revises_its_own_notice(app):
    first = services.publish_notice("ballot_result", "2027 年民生实事项目票决结果", "初步结果",
                                    source="ballots", source_ref="meeting-1")
    again = services.publish_notice("ballot_result", "2027 年民生实事项目票决结果", "正式结果",
                                    source="ballots", source_ref="meeting-1")
    assert first.id == again.id and again.version == 2 and again.body == "正式结果"
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


def test_scope_needs_its_township_or_station(app, county):
    with pytest.raises(DomainError, match="请选择乡镇"):
        notice(scope="township")
    item = notice(scope="station", station_id=county["stations"][0].id)
    assert item.area_id == county["townships"][0].id
    assert services.public_notices_for_station(county["stations"][0]) == [item]
    assert services.public_notices_for_station(county["stations"][1]) == []


# ---- safe Markdown ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("[点我](javascript:alert(1))", 'href="javascript'),
        ("[点我](JAVASCRIPT:alert(1))", "href="),
        ("[点我](data:text/html;base64,PHNjcmlwdD4=)", "href="),
        ("![图](https://evil.example/x.png)", "<img"),
        ('<a href="https://x.example" onclick="x()">a</a>', "onclick=\""),
    ],
)
def test_markdown_never_lets_html_or_scripts_through(source, forbidden):
    assert forbidden not in str(render_markdown(source))


def test_markdown_keeps_the_safe_subset():
    html = str(render_markdown("**加粗** *斜体*\n\n- 一\n- 二\n\n[公告](https://example.gov.cn/a)"))
    assert "<strong>加粗</strong>" in html and "<em>斜体</em>" in html and "<li>一</li>" in html
    assert 'href="https://example.gov.cn/a"' in html and 'rel="nofollow noopener noreferrer"' in html


# ---- attachments -----------------------------------------------------------------------------

def xlsx_bytes():
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("filename", "data"), [("通知.pdf", PDF), ("现场.png", PNG), ("名单.xlsx", None)])
def test_allowed_attachments_are_checked_by_content(app, filename, data):
    item = notice()
    attachment = services.add_attachment(item, filename, data or xlsx_bytes())
    assert attachment.size > 0 and attachment.content_type


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("假的.pdf", b"<html>not a pdf</html>", "文件内容与扩展名不符"),
        ("假的.xlsx", b"PK\x03\x04 not really", "文件内容与扩展名不符"),
        ("脚本.html", b"<script>", "只能上传"),
        ("程序.exe", b"MZ\x90\x00", "只能上传"),
        ("空.pdf", b"", "空的"),
        ("大.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "不能超过 5 MB"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_stored(app, filename, data, message):
    item = notice()
    with pytest.raises(DomainError, match=message):
        services.add_attachment(item, filename, data)
    assert db.session.scalar(select(func.count()).select_from(NoticeAttachment)) == 0


def test_attachment_download_has_a_file_name_and_hides_drafts(client):
    item = notice()
    attachment = services.add_attachment(item, "会议通知.pdf", PDF)
    response = client.get(f"/notices/{item.id}/files/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert "filename*=UTF-8''%E4%BC%9A%E8%AE%AE" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    draft = notice("草稿", publish_at=None)
    hidden = services.add_attachment(draft, "草稿.pdf", PDF)
    assert client.get(f"/notices/{draft.id}/files/{hidden.id}").status_code == 404
    assert client.get(f"/notices/{item.id}/files/{hidden.id}").status_code == 404


# ---- public pages ----------------------------------------------------------------------------

def test_unpublished_notices_are_404_not_403(client):
    now = utcnow()
    hidden = [notice("草稿", publish_at=None), notice("定时", publish_at=now + timedelta(days=1)),
              notice("撤下", publish_at=now - timedelta(days=2), take_down_at=now - timedelta(days=1))]
    for item in hidden:
        for url in (f"/notices/{item.id}", f"/notices/{item.id}/history"):
            response = client.get(url)
            assert response.status_code == 404
            assert "页面不存在" in response.get_data(as_text=True)
    listing = client.get("/notices/").get_data(as_text=True)
    assert not any(item.title in listing for item in hidden)


def test_notice_page_shows_the_body_safely_and_the_update_mark(client):
    item = notice(body="<script>alert('x')</script>**会议**")
    page = client.get(f"/notices/{item.id}").get_data(as_text=True)
    assert "<strong>会议</strong>" in page and "<script>alert" not in page and "&lt;script&gt;" in page
    assert "已更新" not in page
    services.update_notice(item, {"category": "notice", "title": item.title, "body": "新正文", "scope": "county"})
    page = client.get(f"/notices/{item.id}").get_data(as_text=True)
    assert "已更新" in page
    history = client.get(f"/notices/{item.id}/history").get_data(as_text=True)
    assert "第 1 版" in history and "&lt;script&gt;" in history


def test_list_filters_search_pinned_first_and_bad_input(client, county):
    notice("普通通知")
    notice("置顶通知", pinned=True)
    notice("接待安排通知", category="reception", scope="township", area_id=county["townships"][1].id)
    page = client.get("/notices/").get_data(as_text=True)
    assert page.index("置顶通知") < page.index("普通通知")
    assert "接待安排通知" in client.get("/notices/?category=reception").get_data(as_text=True)
    assert "普通通知" not in client.get("/notices/?category=reception").get_data(as_text=True)
    by_town = client.get(f"/notices/?area_id={county['townships'][1].id}").get_data(as_text=True)
    assert "接待安排通知" in by_town and "普通通知" not in by_town
    assert "普通通知" in client.get("/notices/?q=普通").get_data(as_text=True)
    unknown = client.get("/notices/?category=nonsense")
    assert unknown.status_code == 404 and "没有这个公示栏目" in unknown.get_data(as_text=True)
    assert client.get("/notices/?page=99").status_code == 404
    assert client.get("/notices/?page=abc").status_code == 404


def test_htmx_request_gets_the_fragment(client):
    notice("片段测试")
    response = client.get("/notices/?q=片段", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "片段测试" in body and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    restore = client.get("/notices/?q=片段", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_home_shows_latest_notices_per_category_and_counts(client, county, make_deputy):
    make_deputy(name="刘在任", phone="13900000001")
    notice("最新通知")
    notice("票决结果公示", category="ballot_result")
    notice("草稿不显示", publish_at=None)
    page = client.get("/").get_data(as_text=True)
    assert "最新通知" in page and "票决结果公示" in page and "草稿不显示" not in page
    assert "城关镇人大代表之家" in page


def test_atom_feed_is_valid_and_lists_only_public_notices(client):
    notice("公开的通知", body="**正文**")
    notice("草稿", publish_at=None)
    response = client.get("/notices/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["公开的通知"]
    entry = entries[0]
    first_id = db.session.scalar(select(Notice.id).where(Notice.title == "公开的通知"))
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/notices/{first_id}")
    assert "<strong>正文</strong>" in entry.find(f"{ATOM}content").text


def test_notice_list_query_count_does_not_grow(client):
    counts = []
    for total in (3, 30):
        while db.session.scalar(select(func.count()).select_from(Notice)) < total:
            notice(f"通知{total}")
        statements = []
        listener = lambda *args, seen=statements: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/notices/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 8


# ---- staff pages -----------------------------------------------------------------------------

FORM = {"category": "notice", "title": "关于开展代表进站接待活动的通知", "body": "各位代表：……", "scope": "county",
        "area_id": "0", "station_id": "0", "mode": "now"}


def test_staff_write_schedule_pin_and_take_down(client, auth, users):
    auth.login("staff")
    response = client.post("/noticeboard/new", data=FORM)
    assert response.status_code == 303
    item = db.session.scalar(select(Notice))
    assert item.is_public() and item.created_by_id == users["staff"].id
    assert client.post(f"/noticeboard/{item.id}", data={"action": "pin"}).status_code == 302
    assert db.session.get(Notice, item.id).pinned
    assert client.post(f"/noticeboard/{item.id}", data={"action": "take_down"}).status_code == 302
    assert client.get(f"/notices/{item.id}").status_code == 404
    manage = client.get("/noticeboard/?status=taken_down").get_data(as_text=True)
    assert item.title in manage


def test_staff_form_refuses_a_bad_window_and_keeps_nothing(client, auth, users):
    auth.login("staff")
    data = {**FORM, "mode": "scheduled", "publish_at": "2030-12-01T09:00", "take_down_at": "2030-11-30T09:00"}
    response = client.post("/noticeboard/new", data=data)
    assert response.status_code == 422
    assert "撤下时间必须晚于发布时间" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_staff_upload_of_a_fake_pdf_is_refused(client, auth, users):
    auth.login("staff")
    item = notice()
    response = client.post(f"/noticeboard/{item.id}", content_type="multipart/form-data",
                           data={"action": "attach", "file": (io.BytesIO(b"not a pdf"), "通知.pdf")})
    assert response.status_code == 422 and "文件内容与扩展名不符" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NoticeAttachment)) == 0


@pytest.mark.parametrize("role", ["deputy", "liaison", "unit", "clerk"])
def test_only_staff_write_notices(client, auth, users, role):
    auth.login(role)
    assert client.get("/noticeboard/").status_code == 403
    assert client.post("/noticeboard/new", data=FORM).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_anonymous_is_sent_to_login(client):
    response = client.get("/noticeboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_publish_notice_only_flushes_inside_a_callers_transaction(app):
    """ballots.tally.publish wraps publish_notice: the notice and the caller's rows commit together."""
    from blueprints.core.transaction import after_commit, transaction

    ran = []
    with pytest.raises(RuntimeError), transaction():
        notice = services.publish_notice("ballot_result", "票决结果", "正文", source="test", source_ref="1")
        after_commit(lambda: ran.append("bumped"))
        assert notice.id is not None  # flushed, not committed
        raise RuntimeError("the caller fails after publishing")
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0 and ran == []
    with transaction():
        services.publish_notice("ballot_result", "票决结果", "正文", source="test", source_ref="1")
        after_commit(lambda: ran.append("bumped"))
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1 and ran == ["bumped"]


def test_a_second_notice_for_one_source_is_refused_by_its_constraint(app):
    services.create_notice({"category": "notice", "title": "一", "body": "", "scope": "county"},
                           source="test", source_ref="1")
    with pytest.raises(DomainError) as info:
        services.create_notice({"category": "notice", "title": "二", "body": "", "scope": "county"},
                               source="test", source_ref="1")
    assert "已有公示" in info.value.message and info.value.status == 409
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1
