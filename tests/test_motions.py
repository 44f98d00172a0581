"""Motions (议案): signers, numbering, review, agenda and decision, conversion into a suggestion; refusals
change nothing; who may do what."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core.errors import Conflict, DomainError
from blueprints.core.extensions import db
from blueprints.core.timeutil import local_today
from blueprints.motions import services
from blueprints.motions.models import Motion, MotionReview
from blueprints.motions.services import MotionForbidden
from blueprints.suggestions.models import Suggestion
from tests import suggestions_helpers
from tests.conftest import PASSWORD

env = suggestions_helpers.env
TEXT = {"title": "关于加快推进城乡供水一体化的议案", "grounds": "部分村供水不足。", "proposal": "制定三年实施方案。"}


@pytest.fixture
def signers(env, make_user):
    return [make_user("deputy", f"signer{i}") for i in range(9)]


def draft(env, **kw):
    return services.create_draft(TEXT, by=env["lead"], session=env["session"], **kw)


def signed(env, signers, n=9):
    motion = draft(env)
    services.invite_signers(motion, [u.deputy for u in signers[:n]], by=env["lead"])
    for user in signers[:n]:
        services.answer_invitation(motion, True, by=user)
    return motion


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_too_few_signers_is_refused_and_changes_nothing(env, signers):
    motion = signed(env, signers, n=8)  # 9 with the lead: one short of 10
    with pytest.raises(DomainError, match="还差 1 名"):
        services.submit(motion, by=env["lead"])
    db.session.expire_all()
    assert motion.status == "draft" and motion.number is None


def test_ten_signers_or_a_delegation_submit_with_numbers_per_session(env, signers):
    first = signed(env, signers)
    services.submit(first, by=env["lead"])
    assert first.status == "submitted" and first.number == 1 and first.signer_count == 10
    second = draft(env, delegation="城关镇代表团")
    services.submit(second, by=env["lead"])
    assert second.number == 2


def test_the_township_setting(app, env, signers):
    app.config["MOTION_MIN_SIGNERS"] = 5
    motion = signed(env, signers, n=4)
    services.submit(motion, by=env["lead"])
    assert motion.status == "submitted"


def test_invitation_rules(env, signers):
    motion = draft(env)
    with pytest.raises(DomainError, match="不是在任代表"):
        services.invite_signers(motion, [env["ended"]], by=env["lead"])
    services.invite_signers(motion, [signers[0].deputy], by=env["lead"])
    with pytest.raises(Conflict):
        services.invite_signers(motion, [signers[0].deputy], by=env["lead"])
    with pytest.raises(MotionForbidden):
        services.invite_signers(motion, [signers[1].deputy], by=env["other"])
    services.answer_invitation(motion, False, by=signers[0])
    with pytest.raises(Conflict):
        services.answer_invitation(motion, True, by=signers[0])
    with pytest.raises(MotionForbidden):
        services.answer_invitation(motion, True, by=signers[1])


def test_review_agenda_then_decision(env, signers):
    motion = signed(env, signers)
    services.submit(motion, by=env["lead"])
    with pytest.raises(MotionForbidden):
        services.review(motion, "presidium", "agenda", "理由", local_today(), by=env["lead"])
    with pytest.raises(DomainError, match="审查理由"):
        services.review(motion, "presidium", "agenda", " ", local_today(), by=env["staff"])
    with pytest.raises(DomainError, match="晚于今天"):
        services.review(motion, "presidium", "agenda", "理由", local_today() + timedelta(days=1), by=env["staff"])
    assert count(MotionReview) == 0
    services.review(motion, "presidium", "agenda", "属于大会职权。", local_today(), by=env["staff"])
    assert motion.status == "agenda"
    with pytest.raises(Conflict, match="不能重复审查"):
        services.review(motion, "committee", "convert", "再审", local_today(), by=env["staff"])
    services.decide(motion, "passed", local_today(), "作出决议。", by=env["staff"])
    assert motion.status == "decided" and motion.decision_label == "审议通过"
    assert services.stats(env["session"].id)["passed"] == 1


def test_conversion_creates_a_linked_suggestion_once(env, signers):
    from blueprints.suggestions.origins import convert_motion, suggestion_for_motion

    motion = signed(env, signers)
    services.submit(motion, by=env["lead"])
    services.review(motion, "committee", "convert", "属于政府日常工作。", local_today(), by=env["staff"])
    item = suggestion_for_motion(motion.id)
    assert motion.status == "converted" and item.status == "submitted" and item.title == motion.title
    assert item.from_motion_id == motion.id and item.lead_deputy_id == motion.lead_deputy_id
    assert sorted(c.deputy_id for c in item.cosigners) == sorted(u.deputy_id for u in signers)
    with pytest.raises(Conflict, match="不能重复转"):
        convert_motion(motion, by=env["staff"])
    assert count(Suggestion) == 1


def test_pages_and_permissions(env, signers, client):
    motion = signed(env, signers)
    other_draft = draft(env)
    db.session.commit()
    assert client.get(f"/motions/{motion.id}").status_code == 404  # a draft is not public
    services.submit(motion, by=env["lead"])
    db.session.commit()
    assert client.get(f"/motions/{motion.id}").status_code == 200
    assert TEXT["title"] in client.get("/motions/").get_data(as_text=True)
    client.post("/login", data={"username": "other", "password": PASSWORD})
    assert client.get(f"/motions/{other_draft.id}/work").status_code == 403
    assert client.get("/manage/motions/").status_code == 403
    assert client.post(f"/motions/{motion.id}/review", data={}).status_code == 403
    client.post("/logout")
    client.post("/login", data={"username": "staff", "password": PASSWORD})
    page = client.post(f"/motions/{motion.id}/review", data={"review-body": "presidium", "review-decision": "agenda",
                                                            "review-reasons": ""})
    assert page.status_code == 422 and "请填写审查理由" in page.get_data(as_text=True)
    assert client.post(f"/motions/{motion.id}/review", data={
        "review-body": "presidium", "review-decision": "agenda", "review-reasons": "列入议程",
        "review-reviewed_on": local_today().isoformat()}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Motion, motion.id).status == "agenda"


# admin has every right (User.has_role), as on the other areas.
STAFF_ONLY = ["/manage/motions/", "/cases/drive/", "/cases/drive/stats", "/cases/drive/stats.xlsx"]


@pytest.mark.usefixtures("fresh_login_per_request")
@pytest.mark.parametrize("role", ["admin", "staff", "liaison", "clerk", "unit", "deputy", None])
def test_staff_pages_by_role(app, users, client, role):
    if role:
        client.post("/login", data={"username": role, "password": PASSWORD})
    for url in STAFF_ONLY:
        status = client.get(url).status_code
        assert status == (200 if role in ("admin", "staff") else 302 if role is None else 403), (url, status)
    deputy_only = client.get("/my/motions/").status_code
    assert deputy_only == (200 if role in ("deputy", "admin") else 302 if role is None else 403)
    assert client.get("/motions/").status_code == 200
