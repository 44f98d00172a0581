"""Reaching a deputy (issue 18): the profile and its QR code open 给代表留言 with the deputy chosen;
/messages/new offers stations and deputies found by name, nothing chosen; the receipt carries its code
to the tracking page, which shows the text, the recipient, the status and the expected reply date."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from blueprints.core import cases
from blueprints.core.cases import Case
from blueprints.core.extensions import db
from blueprints.core.qr import qr_svg
from blueprints.core.timeutil import local_today
from blueprints.registry.models import Deputy


def selected(page: str) -> list[str]:
    return re.findall(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', page)


def people(county):
    station = county["stations"][0]
    deputies = [Deputy(name=n, level="county", station=station, area=station.area) for n in ("王芳", "王强", "李敏")]
    db.session.add_all(deputies)
    db.session.commit()
    return station, deputies


def test_profile_and_its_qr_code_open_the_message_form_with_the_deputy_chosen(client, county):
    _station, (wang, *_rest) = people(county)
    page = client.get(f"/deputies/{wang.id}").get_data(as_text=True)
    assert f'href="/messages/new?deputy_id={wang.id}"' in page and "给王芳代表留言" in page
    assert f'src="/deputies/{wang.id}/message-qr.svg"' in page
    assert client.get(f"/deputies/{wang.id}/message-qr.svg").data == qr_svg(
        f"http://localhost/messages/new?deputy_id={wang.id}")
    form = client.get(f"/messages/new?deputy_id={wang.id}").get_data(as_text=True)
    assert re.search(rf'<option (selected )?value="d{wang.id}"( selected)?>王芳代表', form)
    assert [v for pair in selected(form) for v in pair if v] == [f"d{wang.id}"]


def test_the_form_chooses_nothing_and_finds_deputies_by_name_without_javascript(client, county):
    station, (wang, qiang, li) = people(county)
    page = client.get("/messages/new").get_data(as_text=True)
    assert [v for pair in selected(page) for v in pair if v] == []
    assert '<option selected value="">请选择联络站或代表</option>' in page
    assert f'value="s{station.id}"' in page and 'type="tel"' in page
    found = client.get("/messages/new?q=王").get_data(as_text=True)
    assert f'value="d{wang.id}"' in found and f'value="d{qiang.id}"' in found and f'value="d{li.id}"' not in found
    assert "找到 2 位名字含“王”的代表" in found
    # htmx: only the field comes back
    part = client.get("/messages/new?q=李&part=target", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith("<div id=\"target-field\">") and f'value="d{li.id}"' in part
    # a deputy found by search can be posted, and the refused form keeps the choice
    refused = client.post("/messages/new", data={"target": f"d{li.id}", "body": ""})
    assert refused.status_code == 422
    assert [v for pair in selected(refused.get_data(as_text=True)) for v in pair if v] == [f"d{li.id}"]
    assert client.post("/messages/new", data={"target": "", "body": "路灯"}).status_code == 422
    assert db.session.scalar(select(Case.id)) is None


def test_receipt_carries_the_code_and_tracking_tells_what_whom_and_when(client, county, make_user):
    station, (wang, *_rest) = people(county)
    response = client.post("/messages/new", data={"target": f"d{wang.id}", "body": "学校门口交通拥堵",
                                                  "phone": "13800001111"})
    assert response.status_code == 303
    sent = client.get(response.location).get_data(as_text=True)
    code = re.search(r'id="receipt-code">([A-Z2-9]{8})<', sent).group(1)
    # the 查询办理进度 button posts the code (it stays out of addresses)
    assert re.search(r'<form method="post" action="/messages/track">.*name="code" value="' + code, sent, re.S)
    html = client.post("/messages/track", data={"code": code}).get_data(as_text=True)
    assert "学校门口交通拥堵" in html and "13800001111" not in html
    assert f"王芳代表（由{station.name}跟进）" in html and "办理状态：待交办" in html
    expected = local_today() + timedelta(days=15)
    assert f"{expected.year}年{expected.month}月{expected.day}日 前" in html
    case = db.session.scalars(select(Case)).one()
    deadline = local_today() + timedelta(days=9)
    cases.assign_case(case, county["unit"], deadline, by=make_user("staff"))
    db.session.commit()
    html = client.post("/messages/track", data={"code": code}).get_data(as_text=True)
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日 前" in html and "办理状态：办理中" in html


def test_a_public_livelihood_proposal_gets_a_receipt_code_and_is_tracked(client, users):
    from blueprints.ballots import proposals
    from blueprints.ballots.models import Proposal

    call = proposals.create_call("2027年民生实事项目征集", local_today() + timedelta(days=30))
    response = client.post(f"/livelihood/calls/{call.id}/propose",
                           data={"title": "东街增设公厕", "content": "东街菜市场旁没有公厕", "contact": "13800001111"})
    assert response.status_code == 303 and response.location.endswith("/messages/sent")
    sent = client.get(response.location).get_data(as_text=True)
    code = re.search(r'id="receipt-code">([A-Z2-9]{8})<', sent).group(1)
    assert "建议已提交" in sent
    proposal = db.session.scalars(select(Proposal)).one()
    assert proposal.receipt_code == code
    html = client.post("/messages/track", data={"code": code.lower()}).get_data(as_text=True)
    assert "办理状态：待审查" in html and "东街菜市场旁没有公厕" in html and "13800001111" not in html
    assert "2027年民生实事项目征集" in html and "征集于" in html
    proposals.screen(proposal, "rejected", "已列入城建计划", actor=users["staff"])
    db.session.commit()
    html = client.post("/messages/track", data={"code": code}).get_data(as_text=True)
    assert "办理状态：未采纳" in html and "已列入城建计划" in html
