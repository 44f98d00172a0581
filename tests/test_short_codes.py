"""Staff edit a unit's and a station's short code (简称代码), the username its account gets when accounts
are issued (registry/issuing.py)."""
from __future__ import annotations

import pytest

from blueprints.core.errors import DomainError
from blueprints.core.extensions import db
from blueprints.registry import services


def test_unit_and_station_codes_are_checked_and_saved(county, make_user):
    unit, station = county["unit"], county["stations"][0]
    base = {"name": unit.name, "contact_name": None, "contact_phone": None, "active": True}
    assert services.save_unit(unit, {**base, "code": " zjj "}).code == "zjj"
    make_user("staff", "laowang")
    for bad, message in (("a", "2 到 32"), ("住建局", "字母、数字"), ("has space", "字母、数字"),
                         ("LaoWang", "已被其他账号用作用户名")):
        with pytest.raises(DomainError, match=message):
            services.save_unit(unit, {**base, "code": bad})
        db.session.rollback()
        assert db.session.get(type(unit), unit.id).code == "zjj"
    # the unit's own account may already carry the code as its username
    make_user("unit", "zjj2", unit_id=unit.id)
    assert services.save_unit(unit, {**base, "code": "zjj2"}).code == "zjj2"
    assert services.save_unit(unit, {**base, "code": ""}).code is None
    values = {k: getattr(station, k) for k in services.STATION_FIELDS if k != "code"}
    assert services.save_station(station, {**values, "code": "cgz"}).code == "cgz"
    with pytest.raises(DomainError, match="已被其他联络站使用|已被其他账号"):
        services.save_station(county["stations"][1], {**{k: getattr(county["stations"][1], k)
                                                        for k in services.STATION_FIELDS}, "code": "cgz"})


def test_the_form_pages_show_and_refuse_codes(county, users, client, auth):
    auth.login("staff")
    unit = county["unit"]
    page = client.get(f"/registry/units/{unit.id}/edit")
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    bad = client.post(f"/registry/units/{unit.id}/edit", data={"name": unit.name, "code": "x y", "active": "y"})
    assert bad.status_code == 422 and "字母、数字" in bad.get_data(as_text=True)
    ok = client.post(f"/registry/units/{unit.id}/edit", data={"name": unit.name, "code": "zjj", "active": "y"})
    assert ok.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(type(unit), unit.id).code == "zjj"
    station = county["stations"][0]
    assert 'name="code"' in client.get(f"/registry/stations/{station.id}/edit").get_data(as_text=True)
