"""Issue 17 part A: who reads a withheld reply, upload bombs, formulas and control characters in
workbooks, audited roster export, stale saves, odd numbers and dates, iCalendar escaping and the
HTTPS headers and cookies."""
from __future__ import annotations

import pytest

from blueprints.core.extensions import db
from blueprints.suggestions import handling, services
from tests import suggestions_helpers
from tests.suggestions_helpers import registered

env = suggestions_helpers.env

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "联系电话13900001111，身份证号340000199001011234"


# ---- 1. a withheld reply ---------------------------------------------------------------------

def test_a_withheld_reply_reaches_only_the_lead_cosigners_units_and_staff(client, auth, env, make_user):
    cosigner = make_user("deputy", "cosigner")
    item = services.create_draft({**suggestions_helpers.TEXT}, by=env["lead"], session=env["session"])
    services.invite_cosigners(item, [cosigner.deputy], by=env["lead"])
    services.answer_cosign(item, True, by=cosigner)
    services.submit(item, by=env["lead"])
    services.register(item, by=env["staff"])
    handling.assign(item, env["units"][0], by=env["staff"], assisting=[env["units"][1]])
    handling.reply(item, SECRET, "A", by=env["unit_users"][0], letter=("答复函.pdf", PDF))
    services.set_withheld(item, True, "答复含电话和身份证号", by=env["staff"])
    make_user("clerk", "clerk")
    make_user("liaison", "liaison")
    answer_id = item.answers[0].id
    work, letter = f"/suggestions/{item.id}/work", f"/suggestions/{item.id}/answers/{answer_id}/letter"
    for username in ("lead", "cosigner", "unit0", "unit1", "staff"):
        auth.login(username)
        assert SECRET in client.get(work).get_data(as_text=True), username
        assert client.get(letter).data == PDF, username
        auth.logout()
    for username in ("other", "clerk", "liaison"):
        auth.login(username)
        page = client.get(work)
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "13900001111" not in text and "答复不予公开" not in text, username
        assert "答复内容不予公开" in text and letter not in text, username
        assert client.get(letter).status_code == 403, username
        auth.logout()
    services.set_withheld(item, False, by=env["staff"])
    auth.login("clerk")
    assert SECRET in client.get(work).get_data(as_text=True) and client.get(letter).data == PDF
