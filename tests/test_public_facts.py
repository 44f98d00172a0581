"""What the public reads must be true (issue 18): a station's reception-day text agrees with the calendar
generated from its rule for every rule kind, and every public page shows that one text; answer classes
in plain words; the home count of answered 群众诉求."""
from __future__ import annotations

import calendar as pycal
import re
from datetime import date, time

import pytest
from sqlalchemy import select

from blueprints.core.cases import reply_class_text
from blueprints.core.extensions import db
from blueprints.stations import calendar as cal
from blueprints.stations.models import WEEKDAYS, ReceptionDay, ReceptionRule, describe_rule

NTH_WORDS = {"第一个": 1, "第二个": 2, "第三个": 3, "第四个": 4, "最后一个": -1}

RULES = [
    {"kind": "month_days", "month_days": "5,25"},
    {"kind": "month_days", "month_days": "10,20"},
    {"kind": "month_days", "month_days": "1"},
    {"kind": "month_days", "month_days": "15,30"},  # February has no 30th: its last day
    {"kind": "month_days", "month_days": "31"},  # the month's last day
    *({"kind": "nth_weekday", "nth": n, "weekday": w} for n in (1, 2, 3, 4, -1) for w in (0, 1, 4, 6)),
]


def dates_read_from(text: str, year: int) -> set[date]:
    """What a reader understands from the text, worked out independently of the calendar's code."""
    m = re.match(r"每月(第一个|第二个|第三个|第四个|最后一个)(星期[一二三四五六日]) ", text)
    found = set()
    if m:
        nth, weekday = NTH_WORDS[m.group(1)], WEEKDAYS.index(m.group(2))
        for month in range(1, 13):
            days = [d for d in pycal.Calendar().itermonthdates(year, month)
                    if d.month == month and d.weekday() == weekday]
            found.add(days[nth - 1] if nth > 0 else days[-1])
        return found
    m = re.match(r"每月((?:\d+日|最后一天)(?:、(?:\d+日|最后一天))*) ", text)
    assert m, text
    for month in range(1, 13):
        last = pycal.monthrange(year, month)[1]
        for part in m.group(1).split("、"):
            # "当月没有该日时为当月最后一天" is said in the text whenever it matters
            found.add(date(year, month, last if part == "最后一天" else min(int(part[:-1]), last)))
    return found


@pytest.mark.parametrize("values", RULES, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_rule_text_agrees_with_the_generated_calendar(county, make_user, values):
    station = county["stations"][0]
    staff = make_user("staff")
    rule = cal.set_rule(station, {**values, "start_time": time(9), "end_time": time(11, 30),
                                  "deputies_per_day": 1}, by=staff)
    db.session.commit()
    year = 2028  # a leap year, far enough ahead that every day is generated
    cal.generate_year(station, year, by=staff, today=date(year, 1, 1))
    db.session.commit()
    generated = set(db.session.scalars(select(ReceptionDay.day).where(ReceptionDay.station_id == station.id)))
    text = cal.rule_texts([station.id])[station.id]
    assert text == describe_rule(rule, holidays=True) == rule.description + "（逢法定节假日顺延至下一个工作日）"
    assert "09:00–11:30" in text
    assert generated == dates_read_from(text, year)
    if values.get("month_days") in ("15,30",):
        assert "当月没有该日时为当月最后一天" in text


def test_every_public_page_shows_the_rules_text(client, county, make_user):
    station = county["stations"][0]
    station.opening_hours = "工作日 8:30-17:30"
    cal.set_rule(station, {"kind": "nth_weekday", "nth": 1, "weekday": 1, "start_time": time(9),
                           "end_time": time(11, 30), "deputies_per_day": 2}, by=make_user("staff"))
    db.session.commit()
    text = "每月第一个星期二 09:00–11:30（逢法定节假日顺延至下一个工作日）"
    for path in ("/", "/stations/", f"/stations/{station.id}", f"/kiosk/{station.id}"):
        page = client.get(path).get_data(as_text=True)
        assert text in page, path
        assert "每月5日" not in page, path


def test_demo_stations_do_not_state_reception_days_apart_from_their_rule(demo):
    from blueprints.registry.models import Station

    rules = {r.station_id: r for r in db.session.scalars(select(ReceptionRule))}
    for station in db.session.scalars(select(Station)):
        assert station.id in rules
        assert "每月" not in (station.opening_hours or ""), station.name  # the days come from the rule


def test_answer_classes_read_in_plain_words():
    assert reply_class_text("B") == "B类（正在解决）"
    assert reply_class_text("A") == "A类（已经解决）"
    assert reply_class_text(None) == ""
    from blueprints.suggestions.models import REPLY_CLASSES

    assert reply_class_text("B", REPLY_CLASSES) == "B类（正在解决，列入计划）"


def test_site_names_come_from_settings(app, client):
    app.config.update(SITE_NAME="青山县人大常委会代表履职服务平台", OFFICE_NAME="青山县人大常委会代表工作委员会",
                      OFFICE_PHONE="0561-6012345")
    page = client.get("/notices/").get_data(as_text=True)
    assert "<title>" in page and "· 青山县人大常委会代表履职服务平台</title>" in page
    assert 'class="brand" href="/">青山县人大常委会代表履职服务平台</a>' in page
    footer = page.split('<footer class="site-footer">')[1]
    assert "青山县人大常委会代表工作委员会" in footer and 'href="tel:0561-6012345"' in footer


def test_names_are_built_from_the_county():
    from app import create_app

    app = create_app({"COUNTY_NAME": "青山县", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert app.config["SITE_NAME"] == "青山县人大常委会代表履职服务平台"
    assert app.config["OFFICE_NAME"] == "青山县人大常委会代表工作委员会"


def test_home_count_answers_constituents_cases_only(county, make_user):
    from blueprints.core import cases
    from blueprints.stations.services import answered_this_year

    unit, staff = county["unit"], make_user("staff")
    unit_user = make_user("unit", unit=unit)
    for source in ("message", "suggestion", "deputy"):
        case = cases.open_case(source, "路灯不亮", "东街路灯一个月不亮", station=county["stations"][0])
        db.session.commit()
        cases.assign_case(case, unit, date.today().replace(year=date.today().year + 1), by=staff)
        cases.reply_case(case, "已修复", by=unit_user)
        db.session.commit()
    assert answered_this_year() == 1


def test_ballot_results_read_by_rank_in_plain_words():
    from types import SimpleNamespace

    from blueprints.ballots.tally import ItemResult, rank_and_select, ranked

    def item(position, yes):
        return ItemResult(item=SimpleNamespace(position=position), electronic={}, paper={},
                          total={"yes": yes, "no": 0, "abstain": 0})

    results = [item(1, 40), item(2, 90), item(3, 70), item(4, 70), item(5, 60)]
    rank_and_select(results, eligible=100, places=2)
    order = ranked(results)
    assert [r.item.position for r in order] == [2, 3, 4, 5, 1]
    assert [r.outcome_label for r in order] == [
        "入选", "得票相同，待主席团决定", "得票相同，待主席团决定", "未入选（赞成票过半数，但名额已满）",
        "未入选（赞成票未超过全体代表的半数）"]


def test_the_demo_result_page_lists_items_by_rank(demo):
    from blueprints.ballots.models import Ballot
    from blueprints.ballots.tally import ranked, tally

    ballot = db.session.scalars(select(Ballot).where(Ballot.status == "published", Ballot.method == "approve")).first()
    assert ballot is not None
    page = demo.test_client().get(f"/livelihood/results/{ballot.id}").get_data(as_text=True)
    expected = [r.item.title for r in ranked(tally(ballot))]
    assert sorted(expected, key=page.index) == expected
    assert "未通过" not in page and "名额外" not in page


def test_notice_bodies_tables_line_breaks_and_plain_excerpts():
    from blueprints.noticeboard.markup import plain_summary, render_markdown

    body = ("代表履职积分规则如下：\n\n| 活动 | 分值 |\n| --- | --- |\n| 列席常委会会议 | 5 |\n\n"
            "    （缩进的一段，不是代码）\n\n县人大常委会代表工作委员会\n2026年1月5日")
    html = str(render_markdown(body))
    assert "<table>" in html and "<td>列席常委会会议</td>" in html and "| ---" not in html
    assert "县人大常委会代表工作委员会<br />\n2026年1月5日" in html  # the 落款 date on its own line
    assert "<pre>" not in html and "<code>" not in html
    summary = plain_summary(body)
    assert "|" not in summary and "---" not in summary
    assert summary.startswith("代表履职积分规则如下： 活动 分值 列席常委会会议 5")
    assert plain_summary("**加粗**的[链接](https://a.cn)") == "加粗的链接"


def test_the_notice_editor_previews_with_and_without_javascript(client, auth, users):
    auth.login("staff")
    form = client.get("/noticeboard/new").get_data(as_text=True)
    assert 'hx-post="/noticeboard/preview"' in form and 'name="preview" value="1"' in form
    assert "直接输入或粘贴文字即可" in form
    data = {"category": "notice", "title": "试一试", "body": "第一行\n第二行", "scope": "county", "mode": "draft",
            "preview": "1"}
    page = client.post("/noticeboard/new", data=data)
    assert page.status_code == 200 and "第一行<br />\n第二行" in page.get_data(as_text=True)
    from blueprints.noticeboard.models import Notice

    assert db.session.scalar(select(Notice.id)) is None  # a preview saves nothing
    part = client.post("/noticeboard/preview", data={"body": "| a | b |\n|---|---|\n| 1 | 2 |"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith('<section id="notice-preview"') and "<td>1</td>" in part
    auth.logout()
    assert client.post("/noticeboard/preview", data={"body": "x"}).status_code in (302, 303, 401, 403)


def test_the_public_notice_has_a_print_button_and_prints_without_navigation(demo):
    client = demo.test_client()
    page = client.get("/notices/2").get_data(as_text=True)
    assert "<table>" in page and "data-print hidden" in page and "js/print.js" in page
    from pathlib import Path

    css = Path("static/css/print.css").read_text(encoding="utf-8")
    hidden = css.split("display: none !important")[0]
    assert ".print-hide" in hidden and ".main-nav" in hidden and ".breadcrumb" in hidden


def test_names_sort_by_surname_in_pinyin_order():
    from blueprints.registry.sortname import sort_key

    names = ["张伟", "王芳", "李强", "阿依古丽", "曾志", "单雄", "赵敏", "陈刚", "李明", "李安", "欧阳修"]
    assert sorted(names, key=sort_key) == ["阿依古丽", "陈刚", "李安", "李明", "李强", "欧阳修", "单雄",
                                           "王芳", "曾志", "张伟", "赵敏"]
    assert sort_key("单雄") == "shan4 xiong2" and sort_key("曾志") == "zeng1 zhi4"  # read as surnames


def test_deputy_lists_are_in_pinyin_order_whoever_wrote_the_rows(client, county):
    from sqlalchemy import insert

    from blueprints.registry.models import Deputy

    station = county["stations"][0]
    for name in ("张伟", "王芳", "李强"):
        db.session.add(Deputy(name=name, level="county", station=station, area=station.area))
    db.session.execute(insert(Deputy), [{"name": "陈刚", "level": "county", "station_id": station.id}])  # roster
    db.session.commit()
    renamed = db.session.scalar(select(Deputy).where(Deputy.name == "张伟"))
    renamed.name = "安然"
    db.session.commit()
    assert db.session.scalar(select(Deputy.sort_name).where(Deputy.name == "陈刚")) == "chen2 gang1"
    assert renamed.sort_name == "an1 ran2"
    for path in ("/deputies/", f"/stations/{station.id}"):
        page = client.get(path).get_data(as_text=True)
        order = ["安然", "陈刚", "李强", "王芳"]
        assert sorted(order, key=page.index) == order, path
