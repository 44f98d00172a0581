"""Demo motions (议案) for the demo county's current session (seed 000: "3件议案84件建议"): one put on the
agenda and passed, one on the agenda waiting for its vote, one converted into a suggestion (转为建议), one
waiting for review, and deputy1's draft with co-signing invitations still open."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ..core.extensions import db
from ..core.models import User
from ..core.timeutil import local_today
from ..core.transaction import transaction
from . import services

MOTIONS = [
    ("关于加快推进城乡供水一体化的议案",
     "全县仍有 3 个乡镇 46 个村使用单村供水工程，夏季高峰水压不足，水质检测不达标时有发生。",
     "一、制定城乡供水一体化三年实施方案；二、县财政每年安排专项资金；三、由县人大常委会听取实施情况专项报告。"),
    ("关于加强农村集体经济组织资产监督管理的议案", "部分村集体资产底数不清、合同管理不规范，群众反映强烈。",
     "一、开展农村集体资产清产核资；二、建立村级财务公开和审计制度；三、县人大常委会开展专项执法检查。"),
    ("关于改善临涣镇中心学校办学条件的议案", "临涣镇中心学校校舍老旧，班额过大，缺少功能教室。",
     "建议县政府将学校改扩建列入年度计划，落实资金，年内开工。"),
    ("关于推进老旧小区加装电梯的议案", "城关镇老旧小区老年住户多，上下楼困难，加装电梯协调难、审批慢。",
     "建议出台加装电梯实施办法，简化审批，给予财政补助。"),
]


def demo(rng: random.Random | None = None) -> None:
    from ..suggestions.models import CongressSession

    staff = db.session.scalar(select(User).where(User.username == "staff"))
    deputies = db.session.scalars(select(User).where(User.role == "deputy").order_by(User.id).limit(60)).all()
    session = db.session.scalar(select(CongressSession).where(CongressSession.accepting)
                                .order_by(CongressSession.opens_on.desc()).limit(1))
    if staff is None or session is None or len(deputies) < 50:
        return
    today = local_today()
    by_deputy = {u.deputy_id: u for u in deputies}
    with transaction():
        made = []
        for index, (title, grounds, proposal) in enumerate(MOTIONS):
            lead = deputies[10 + index * 10]
            motion = services.create_draft({"title": title, "grounds": grounds, "proposal": proposal}, by=lead,
                                           session=session, delegation="城关镇代表团" if index == 1 else None)
            signers = [u.deputy for u in deputies[11 + index * 10:20 + index * 10]]
            services.invite_signers(motion, signers, by=lead)
            for signer in signers:
                services.answer_invitation(motion, True, by=by_deputy[signer.id])
            services.submit(motion, by=lead)
            made.append(motion)
        reviewed = session.opens_on + timedelta(days=1)
        services.review(made[0], "presidium", "agenda", "属于本级人民代表大会职权范围，列入大会议程审议。", reviewed,
                        by=staff)
        services.decide(made[0], "passed", min(reviewed + timedelta(days=1), today),
                        "大会作出关于加快推进城乡供水一体化的决议。", by=staff)
        services.review(made[1], "committee", "agenda", "议案审查委员会认为该议案理由充分、办法可行，建议列入议程。",
                        reviewed, by=staff)
        services.review(made[2], "committee", "convert",
                        "所提事项属于政府日常工作，不需要大会作出决议，转为代表建议由县政府办理。", reviewed, by=staff)
        # The converted motion went on through the suggestion workflow: passed pre-review and registered.
        from ..suggestions import services as suggestion_services
        from ..suggestions.origins import suggestion_for_motion

        converted = suggestion_for_motion(made[2].id)
        suggestion_services.review(converted, "pass", None, by=staff)
        suggestion_services.register(converted, by=staff, category="education")
        # deputy1's draft: three invitations, one confirmed; short of the 10 signers it needs.
        lead = deputies[0]
        draft = services.create_draft({"title": "关于设立农村养老服务专项资金的议案",
                                       "grounds": "农村留守老人多，养老服务设施缺口大。",
                                       "proposal": "建议县政府设立农村养老服务专项资金，由县人大常委会监督使用。"},
                                      by=lead, session=session)
        services.invite_signers(draft, [deputies[1].deputy, deputies[2].deputy, deputies[3].deputy], by=lead)
        services.answer_invitation(draft, True, by=deputies[2])
