"""The spine in a real browser: log in and out, import a roster, live search, a wrong password."""
from __future__ import annotations

import re

import pytest
from openpyxl import Workbook

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

ROSTER_HEADERS = ["姓名", "性别", "层级", "选区", "代表小组", "联络站", "工作单位及职务", "手机"]


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def log_in(page, username="staff", password=PASSWORD):
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def test_staff_logs_in_and_out(page, live_server):
    live_server.add_user("staff", display_name="工委张敏")

    log_in(page)
    expect(page).to_have_url(re.compile(r"/workspace/$"))
    expect(page.locator("h1")).to_have_text("工作台")
    expect(page.locator("header")).to_contain_text("工委张敏")

    page.locator("header").get_by_role("button", name="退出", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#flashes")).to_contain_text("您已安全退出")

    # The session is really over: a staff page sends the browser back to the login form.
    page.goto("/registry/deputies/")
    assert path_of(page).startswith("/login"), page.url
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()


def test_roster_import_through_the_upload_page(page, live_server, tmp_path):
    live_server.add_user("staff")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "代表名册"
    sheet.append(ROSTER_HEADERS)
    sheet.append(["王秀英", "女", "县", "城关镇第3选区", None, None, "城关镇中心学校校长", "13905610001"])
    roster = tmp_path / "代表名册.xlsx"
    workbook.save(roster)

    log_in(page)
    expect(page).to_have_url(re.compile(r"/workspace/$"))
    response = page.goto("/registry/deputies/import")
    assert response is not None and response.status == 200, (
        f"the roster upload page answered {response.status if response else 'nothing'}"
    )
    page.locator("input[type=file][name=file]").set_input_files(roster)
    page.get_by_role("button", name="导入", exact=True).click()

    expect(page).to_have_url(re.compile(r"/registry/deputies/(\?.*)?$"))
    expect(page.locator("#flashes")).to_contain_text("导入完成")

    page.goto("/registry/deputies/?q=王秀英")
    rows = page.locator("#deputy-rows table")
    expect(rows).to_contain_text("王秀英")
    expect(rows).to_contain_text("城关镇中心学校校长")


def test_live_search_swaps_only_the_rows(page, live_server, console):
    live_server.add_user("staff")
    live_server.add_deputy(name="李建国", level="county", constituency="城关镇第1选区")
    live_server.add_deputy(name="王海燕", level="township", constituency="临涣镇第2选区")

    log_in(page)
    expect(page).to_have_url(re.compile(r"/workspace/$"))
    page.goto("/registry/deputies/")
    rows = page.locator("#deputy-rows")
    expect(rows).to_contain_text("李建国")
    expect(rows).to_contain_text("王海燕")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__e2eNoReload = 'still-here'; }")

    search = page.locator("form.filters input[name=q]")
    with page.expect_response(
        lambda r: "/registry/deputies/" in r.url and "q=" in r.url and r.request.headers.get("hx-request") == "true"
    ) as htmx_response:
        search.press_sequentially("李建", delay=60)
    response = htmx_response.value
    assert response.status == 200
    assert response.request.headers.get("x-csrftoken"), "HTMX requests must carry the X-CSRFToken header"

    expect(rows).to_contain_text("李建国")
    expect(rows).not_to_contain_text("王海燕")
    # The fragment replaced the rows only: no reload, no page nested inside the page.
    assert page.evaluate("() => window.__e2eNoReload") == "still-here", "the search reloaded the whole page"
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("#deputy-rows h1")).to_have_count(0)
    expect(search).to_have_value("李建")

    assert not console.errors(r"Content.Security.Policy"), console.messages
    assert not console.errors(r"^pageerror"), console.messages


def test_wrong_password_gets_a_clear_chinese_message(page, live_server):
    live_server.add_user("staff")

    log_in(page, password="not-the-password")
    expect(page.locator("#flashes")).to_contain_text("用户名或密码不正确")
    assert path_of(page).startswith("/login"), page.url
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()


def test_refusals_of_the_registry_and_the_noticeboard_show_on_the_page(page, live_server):
    """A taken group name, a second group leader and a draft with a take-down time: each refusal
    shows its Chinese message on the page it came from, and nothing is saved."""
    from blueprints.core.extensions import db
    from blueprints.registry.models import DeputyGroup, GroupMembership
    from tests.conftest import make_deputy_record

    live_server.add_user("staff")

    def seed():
        group = DeputyGroup(name="城关镇第一代表小组", kind="regional")
        db.session.add(group)
        leader, other = make_deputy_record(name="王秀英"), make_deputy_record(name="李建国")
        db.session.add(GroupMembership(group=group, deputy=leader, role="leader"))
        db.session.flush()
        return group.id, other.id

    group_id, other_id = live_server.seed(seed)
    log_in(page)

    page.goto("/registry/groups/new")
    page.get_by_label("小组名称").fill("城关镇第一代表小组")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".field-error")).to_contain_text("已有同名的代表小组")
    expect(page.locator("h1")).to_be_visible()

    page.goto(f"/registry/groups/{group_id}")
    page.locator("select[name=deputy_id]").select_option(str(other_id))
    page.locator("select[name=role]").select_option("leader")
    page.locator("form:has(select[name=role])").get_by_role("button").first.click()
    expect(page.locator("#flashes")).to_contain_text("该小组已有组长")

    page.goto("/noticeboard/new")
    page.get_by_label("标题").fill("三月接待日安排")
    page.get_by_label("撤下时间（可选）").fill("2030-03-31T18:00")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".field-error")).to_contain_text("草稿不能设置撤下时间")

    def counts():
        from sqlalchemy import func, select

        from blueprints.noticeboard.models import Notice

        return (db.session.scalar(select(func.count()).select_from(DeputyGroup)),
                db.session.scalar(select(func.count()).select_from(Notice)),
                db.session.scalar(select(func.count()).select_from(GroupMembership)))

    assert live_server.seed(counts) == (1, 0, 1)
