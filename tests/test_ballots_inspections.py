"""Deputies' inspections (duty activities) linked to livelihood projects (代表视察民生实事项目)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.ballots import projects
from blueprints.ballots.models import Project, ProjectInspection
from blueprints.core.errors import DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.duties.services import record_activity


def links() -> int:
    return db.session.scalar(select(func.count()).select_from(ProjectInspection))


@pytest.fixture
def site(app, users, make_deputy):
    project = Project(year=2026, title="城区道路改造")
    db.session.add(project)
    first, second = make_deputy(name="李建华"), make_deputy(name="周晓梅")
    db.session.flush()
    outing = [record_activity(d.id, "inspection", date(2026, 5, 12), "视察城区道路改造工程", source="batch",
                              source_ref="nonce-1") for d in (first, second)]
    training = record_activity(first.id, "training", date(2026, 5, 1), "代表履职培训", source="batch",
                               source_ref="nonce-2")
    pending = record_activity(second.id, "survey", date(2026, 6, 1), "调研道路施工安全", source="self",
                              source_ref="nonce-3", verified=False)
    db.session.commit()
    return {"project": project, "outing": outing, "training": training, "pending": pending, "users": users}


def test_a_group_outing_is_offered_once_and_linked_whole(site):
    project, outing = site["project"], site["outing"]
    offered = projects.linkable_inspections(project)
    assert [(g["title"], sorted(g["names"])) for g in offered] == [("视察城区道路改造工程", ["周晓梅", "李建华"])]
    assert projects.link_inspection(project, offered[0]["ids"], site["users"]["staff"]) == 2
    shown = projects.project_inspections(project)
    assert [(g["occurred_on"], g["type"], len(g["names"])) for g in shown] == [(date(2026, 5, 12), "视察", 2)]
    assert projects.linkable_inspections(project) == []
    with pytest.raises(DomainError, match="已经关联"):
        projects.link_inspection(project, [a.id for a in outing], site["users"]["staff"])
    assert links() == 2


@pytest.mark.parametrize("which,message", [("training", "只能关联视察、调研或执法检查"), ("pending", "已核实"),
                                           ("missing", "不存在"), ("none", "请选择")])
def test_refused_links_change_nothing(site, which, message):
    """A selection with one bad activity is refused whole, even with a good one beside it."""
    good = [site["outing"][0].id]
    ids = {"training": good + [site["training"].id], "pending": good + [site["pending"].id],
           "missing": good + [999999], "none": []}[which]
    with pytest.raises(DomainError, match=message):
        projects.link_inspection(site["project"], ids, site["users"]["staff"])
    assert links() == 0


def test_only_staff_link(site):
    with pytest.raises(Forbidden):
        projects.link_inspection(site["project"], [site["outing"][0].id], site["users"]["liaison"])
    assert links() == 0


def test_pages(client, auth, site):
    project, outing = site["project"], site["outing"]
    url = f"/livelihood/projects/{project.id}"
    assert "暂无代表视察记录" in client.get(url).text and "关联代表视察" not in client.get(url).text
    post = f"{url}/inspections"
    assert client.post(post, data={"activity_ids": str(outing[0].id)}).status_code in (302, 303)  # to login
    auth.login("unit")
    assert client.post(post, data={"activity_ids": str(outing[0].id)}).status_code == 403
    auth.logout()
    auth.login("staff")
    page = client.get(url).text
    assert "关联到本项目" in page and "代表履职培训" not in page and "调研道路施工安全" not in page
    bad = client.post(post, data={"activity_ids": f"{site['training'].id}"})
    assert bad.status_code == 422 and "只能关联视察、调研或执法检查活动" in bad.text and links() == 0
    ids = ",".join(str(a.id) for a in outing)
    assert client.post(post, data={"activity_ids": ids}).status_code == 303 and links() == 2
    auth.logout()
    public = client.get(url).text
    assert "视察城区道路改造工程" in public and "李建华" in public and "周晓梅" in public
