"""The monthly 社情民意 drive: filing records the duty activity once per case, who filed none, the
statistics, a bad month, turning a case into a draft suggestion (once)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.core import cases
from blueprints.core.errors import Conflict, DomainError, Forbidden
from blueprints.core.extensions import db
from blueprints.core.timeutil import LOCAL_TZ, local_today
from blueprints.duties.models import Activity
from blueprints.stations import drive
from blueprints.suggestions.models import Suggestion
from tests import suggestions_helpers
from tests.conftest import PASSWORD

env = suggestions_helpers.env


def activities(deputy_id):
    return db.session.scalars(select(Activity).where(Activity.deputy_id == deputy_id,
                                                     Activity.type_code == "public_opinion")).all()


def test_filing_records_the_activity_once_per_case(env):
    case = drive.file_public_opinion(env["lead"], "urban", "反映路灯缺失", "村道无路灯。")
    assert case.source == "deputy" and case.deputy_id == env["lead"].deputy_id
    [activity] = activities(env["lead"].deputy_id)
    assert activity.status == "verified" and activity.source_ref == f"case:{case.id}"
    from blueprints.duties.services import record_activity

    record_activity(env["lead"].deputy_id, "public_opinion", local_today(), "again", source="stations",
                    source_ref=f"case:{case.id}")
    drive.file_public_opinion(env["lead"], "urban", "反映积水", "小区积水。")
    assert len(activities(env["lead"].deputy_id)) == 2


def test_a_refused_filing_stores_nothing(env):
    with pytest.raises(DomainError):
        drive.file_public_opinion(env["lead"], "urban", "  ", "x")
    with pytest.raises(Forbidden):
        drive.file_public_opinion(env["staff"], "urban", "t", "x")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 0


@pytest.mark.parametrize("raw", ["2026-13", "2026/12", "12-2026", "abc", "1999-01"])
def test_a_bad_month_is_refused_in_chinese(raw):
    with pytest.raises(DomainError, match="月份格式不正确"):
        drive.parse_month(raw)


def test_who_filed_none_and_the_statistics(env):
    month = local_today().replace(day=1)
    drive.file_public_opinion(env["lead"], "urban", "反映路灯缺失", "村道无路灯。")
    last = datetime(2025, 3, 5, 10, tzinfo=LOCAL_TZ).astimezone(UTC)
    drive.file_public_opinion(env["other"], "urban", "去年三月", "x", at=last)
    result = drive.missing(month)
    missing = {r["deputy"].id for _t, rows in result["by_township"] for r in rows}
    assert env["lead"].deputy_id not in missing and env["other"].deputy_id in missing
    assert env["ended"].id not in missing  # only serving deputies are asked
    assert result["filed"] == 1 and result["missing"] == result["total"] - 1
    assert env["other"].deputy_id not in {r["deputy"].id for _t, rows in drive.missing(
        drive.parse_month("2025-03"))["by_township"] for r in rows}
    # statistics: two this year's, one closed and rated satisfied
    second = drive.file_public_opinion(env["other"], "urban", "反映积水", "小区积水。")
    unit, unit_user = env["units"][0], env["unit_users"][0]
    cases.assign_case(second, unit, local_today() + timedelta(days=30), by=env["staff"])
    cases.reply_case(second, "已处理。", by=unit_user)
    cases.send_answer(second, by=env["staff"])
    cases.rate_case(second, "satisfied", by=env["other"], rater="deputy")
    stats = drive.statistics(local_today().year, "deputy")
    assert stats["total"]["collected"] == 2 and stats["total"]["closed"] == 1
    assert stats["total"]["closed_rate"] == "50%" and stats["total"]["satisfaction"] == "100%"
    assert "收集代表社情民意2条，办结1条，办结率50%" in stats["summary"]
    assert drive.statistics_xlsx(stats)[:2] == b"PK"


def test_a_case_becomes_a_draft_suggestion_once(env):
    from blueprints.suggestions.origins import draft_from_case, suggestion_for_case

    case = drive.file_public_opinion(env["lead"], "health", "反映卫生室缺药", "老年人慢性病用药不全。")
    with pytest.raises(Forbidden):
        draft_from_case(case, by=env["other"])
    item = draft_from_case(case, by=env["staff"])
    assert item.status == "draft" and item.lead_deputy_id == env["lead"].deputy_id and item.category == "health"
    assert item.grounds == "老年人慢性病用药不全。" and suggestion_for_case(case.id).id == item.id
    with pytest.raises(Conflict, match="不能重复转"):
        draft_from_case(case, by=env["lead"])
    assert db.session.scalar(select(func.count()).select_from(Suggestion)) == 1


def test_pages_and_permissions(env, client):
    client.post("/login", data={"username": "lead", "password": PASSWORD})
    assert client.get("/cases/drive/").status_code == 403
    assert "本月尚未反映社情民意" in client.get("/workspace/").get_data(as_text=True)
    response = client.post("/cases/new", data={"category": "urban", "title": "反映路灯", "body": "村道无路灯。"})
    assert response.status_code == 303
    assert "本月已反映社情民意 1 条" in client.get("/workspace/").get_data(as_text=True)
    case_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    response = client.post(f"/cases/{case_id}/to-suggestion")
    assert response.status_code == 303 and "/my/suggestions/" in response.headers["Location"]
    assert client.post(f"/cases/{case_id}/to-suggestion").status_code == 409
    client.post("/logout")
    client.post("/login", data={"username": "staff", "password": PASSWORD})
    page = client.get("/cases/drive/?month=2026-13")
    assert page.status_code == 422 and "月份格式不正确" in page.get_data(as_text=True)
    page = client.get("/cases/drive/").get_data(as_text=True)
    assert "代表other" in page and "代表lead" not in page
    assert client.get("/cases/drive/stats?by=level").status_code == 200
    assert client.get("/cases/drive/stats.xlsx").data[:2] == b"PK"
    client.post("/logout")
    client.post("/login", data={"username": "unit0", "password": PASSWORD})
    assert client.get("/cases/drive/stats").status_code == 403
