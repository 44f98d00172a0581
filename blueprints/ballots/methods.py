"""Ballot methods (表决方式) as classes, in one registry.

Each method carries its choices and their labels, its settings, its validation of one ballot paper,
its passing rule, and how its results are shown (a template of two macros, ``head()`` and
``cells(r)``, under templates/ballots/methods/). The database's CHECK constraints on
``ballots.method`` and ``ballot_choices.choice`` are generated from the registry (models.py), so a new
method is:

1. a class here (key, label, choices, labels; ``validate``/``decide`` if it needs them) registered
   with ``@register``;
2. its results template ``templates/ballots/methods/<key>.html``;
3. a migration that recreates the two CHECK constraints (tests/test_migrations.py says which);
4. its tests.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from .errors import BadVote

REGISTRY: dict[str, BallotMethod] = {}


def register(cls: type[BallotMethod]) -> type[BallotMethod]:
    REGISTRY[cls.key] = cls()
    return cls


def get(key: str) -> BallotMethod:
    return REGISTRY[key]


def all_choices() -> tuple[str, ...]:
    """Every choice of every method, in registry order, once (the CHECK on ballot_choices.choice)."""
    seen: list[str] = []
    for method in REGISTRY.values():
        seen.extend(c for c in method.choices if c not in seen)
    return tuple(seen)


def sql_in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class BallotMethod:
    key: str = ""
    label: str = ""
    choices: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    uses_yes_limit = False  # 差额: "at most N yes" and N places make sense
    creates_projects = False  # publishing starts tracking the selected items as projects

    @property
    def template(self) -> str:
        return f"ballots/methods/{self.key}.html"

    def settings(self, max_yes: int | None, places: int | None) -> tuple[int | None, int | None]:
        return (max_yes, places) if self.uses_yes_limit else (None, None)

    def validate(self, ballot, chosen: dict[int, str]) -> None:
        """Refuse (BadVote) a complete paper with allowed values that breaks the method's own rule."""

    def decide(self, ballot, results: list) -> None:
        """Set each ItemResult's passed / rank / outcome."""

    def outcome_text(self, result) -> str:
        return ""


@register
class Approve(BallotMethod):
    """赞成 / 反对 / 弃权 per item; optionally at most N yes (差额) and N places. Passing: yes from more
    than half of ALL deputies on the roll; passing items ranked by yes, the first N selected, ties at
    the cut left to the presidium."""

    key = "approve"
    label = "赞成/反对/弃权"
    choices = ("yes", "no", "abstain")
    labels = {"yes": "赞成", "no": "反对", "abstain": "弃权"}
    uses_yes_limit = True
    creates_projects = True

    def validate(self, ballot, chosen):
        if ballot.max_yes:
            yes = sum(1 for c in chosen.values() if c == "yes")
            if yes > ballot.max_yes:
                raise BadVote(_("赞成票不能超过 %(n)d 个（您选了 %(y)d 个）。", n=ballot.max_yes, y=yes),
                              field="ballot")

    def decide(self, ballot, results):
        from .tally import rank_and_select

        rank_and_select(results, ballot.eligible_count or 0, ballot.places)

    def outcome_text(self, result):
        if result.passed:
            return f"（第 {result.rank} 名，{result.outcome_label}）"
        return f"（{result.outcome_label}）"


@register
class Rating(BallotMethod):
    """满意度测评: 满意 / 基本满意 / 不满意 per project; the result is the satisfaction rate."""

    key = "rating"
    label = "满意度测评"
    choices = ("satisfied", "basic", "unsatisfied")
    labels = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
