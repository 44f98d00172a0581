"""督 and 评 of suggestions (issue 19): leaders, supervision records, handling plans (三考), follow-up
samples (回访), unit interviews (约谈问效), carry-over rounds (跨年滚动连办), links to earlier suggestions
(年年提) and the unit ranking's yearly weights.

- ``users.role`` may be ``leader`` (常委会组成人员 / 主任会议成员 leading key supervision).
- ``suggestions.key_leader_id``: a key suggestion names a leader's account. Existing key suggestions
  keep their free-text ``key_leader``; it is matched to a leader account of the same display name when
  one exists (none does before this release, so in practice the text stays and staff pick the account).
- New tables only otherwise.

Only tables and columns of its own (besides ``users.role``'s CHECK), so that it does not depend on the
other round-3 migrations.

Revision ID: 0015_supervision_and_rating
Revises: 0014_public_facts
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_supervision_and_rating'
down_revision = '0014_public_facts'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('deputy', 'liaison', 'unit', 'clerk', 'staff', 'admin')"
ROLES_AFTER = "role IN ('deputy', 'liaison', 'unit', 'clerk', 'leader', 'staff', 'admin')"


def _users_role_check(bind, check: str) -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), check)


def _foreign_keys_off(bind):
    # SQLite rebuilds users and suggestions (batch mode) to change a CHECK and add a foreign key; with
    # foreign keys on, dropping the old table would run an implicit DELETE (see 0008_ballot_box).
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def _foreign_keys_on(bind):
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"0015_supervision_and_rating: foreign keys broken by the rebuild: {broken[:5]}")
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys = ON")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys_off(bind)
    _users_role_check(bind, ROLES_AFTER)
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_leader_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_suggestions_key_leader_id'), ['key_leader_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_suggestions_key_leader_id_users'), 'users', ['key_leader_id'],
                                    ['id'], ondelete='RESTRICT')
    if sqlite:
        _foreign_keys_on(bind)
    # The free text names a leader account of the same display name: link it (the text is kept).
    bind.execute(sa.text(
        "UPDATE suggestions SET key_leader_id = (SELECT min(u.id) FROM users u WHERE u.role = 'leader' "
        "AND u.display_name = suggestions.key_leader) WHERE is_key AND key_leader IS NOT NULL"))

    op.create_table('suggestion_supervisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('form', sa.String(length=16), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('agreed', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("form IN ('forum', 'site', 'dispatch', 'interview')", name=op.f('ck_suggestion_supervisions_form')),
    sa.ForeignKeyConstraint(['leader_id'], ['users.id'], name=op.f('fk_suggestion_supervisions_leader_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_suggestion_supervisions_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_supervisions_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_supervisions'))
    )
    op.create_index('ix_suggestion_supervisions_suggestion_id', 'suggestion_supervisions', ['suggestion_id'])

    # 三考: the plan (一考), its milestones and progress entries (二考); the answer is the result (三考).
    op.create_table('suggestion_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_suggestion_plans_filed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_plans_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_plans_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_plans')),
    sa.UniqueConstraint('suggestion_id', 'round', name=op.f('uq_suggestion_plans_suggestion_id_round'))
    )
    op.create_table('suggestion_plan_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['suggestion_plans.id'], name=op.f('fk_suggestion_plan_milestones_plan_id_suggestion_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_plan_milestones'))
    )
    op.create_index('ix_suggestion_plan_milestones_plan_id', 'suggestion_plan_milestones', ['plan_id'])
    op.create_index('ix_suggestion_plan_milestones_due', 'suggestion_plan_milestones', ['done_on', 'due_on'])
    op.create_table('suggestion_plan_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['suggestion_plan_milestones.id'], name=op.f('fk_suggestion_plan_progress_milestone_id_suggestion_plan_milestones'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['suggestion_plans.id'], name=op.f('fk_suggestion_plan_progress_plan_id_suggestion_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_suggestion_plan_progress_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_plan_progress'))
    )
    op.create_index('ix_suggestion_plan_progress_plan_id', 'suggestion_plan_progress', ['plan_id'])

    # 回访: the sample keeps its seed, so the same draw can be repeated and checked.
    op.create_table('suggestion_followup_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('pool', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("mode IN ('percent', 'count')", name=op.f('ck_suggestion_followup_samples_mode')),
    sa.CheckConstraint('size >= 1 AND size <= pool', name=op.f('ck_suggestion_followup_samples_size')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_suggestion_followup_samples_drawn_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['congress_sessions.id'], name=op.f('fk_suggestion_followup_samples_session_id_congress_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_followup_samples'))
    )
    op.create_index('ix_suggestion_followup_samples_session_id', 'suggestion_followup_samples', ['session_id'])
    op.create_table('suggestion_followup_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=True),
    sa.Column('visitors', sa.String(length=200), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('deputy_satisfied', sa.Boolean(), nullable=True),
    sa.Column('public_satisfied', sa.Boolean(), nullable=True),
    sa.Column('second_handling_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(visited_on IS NULL) = (findings IS NULL)', name=op.f('ck_suggestion_followup_visits_recorded')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_suggestion_followup_visits_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sample_id'], ['suggestion_followup_samples.id'], name=op.f('fk_suggestion_followup_visits_sample_id_suggestion_followup_samples'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_followup_visits_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_followup_visits')),
    sa.UniqueConstraint('sample_id', 'suggestion_id', name=op.f('uq_suggestion_followup_visits_sample_id_suggestion_id'))
    )
    op.create_index('ix_suggestion_followup_visits_suggestion_id', 'suggestion_followup_visits', ['suggestion_id'])

    op.create_table('suggestion_unit_interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('head_name', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('interview', 'written')", name=op.f('ck_suggestion_unit_interviews_kind')),
    sa.CheckConstraint("reason IN ('unsatisfied', 'overdue', 'both')", name=op.f('ck_suggestion_unit_interviews_reason')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_suggestion_unit_interviews_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['congress_sessions.id'], name=op.f('fk_suggestion_unit_interviews_session_id_congress_sessions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_unit_interviews_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_unit_interviews'))
    )
    op.create_index('ix_suggestion_unit_interviews_unit_id', 'suggestion_unit_interviews', ['unit_id'])

    # 跨年滚动连办: the rounds of a carried-over suggestion within the year it was carried into.
    op.create_table('suggestion_carry_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('carry_over_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(reported_at IS NULL) = (report IS NULL)', name=op.f('ck_suggestion_carry_rounds_reported')),
    sa.CheckConstraint('round >= 1 AND round <= 2', name=op.f('ck_suggestion_carry_rounds_round')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_suggestion_carry_rounds_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['carry_over_id'], ['suggestion_carry_overs.id'], name=op.f('fk_suggestion_carry_rounds_carry_over_id_suggestion_carry_overs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_carry_rounds_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_carry_rounds')),
    sa.UniqueConstraint('carry_over_id', 'round', name=op.f('uq_suggestion_carry_rounds_carry_over_id_round'))
    )
    op.create_index('ix_suggestion_carry_rounds_unit_id', 'suggestion_carry_rounds', ['unit_id'])

    op.create_table('suggestion_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('earlier_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('suggestion_id <> earlier_id', name=op.f('ck_suggestion_links_not_self')),
    sa.ForeignKeyConstraint(['earlier_id'], ['suggestions.id'], name=op.f('fk_suggestion_links_earlier_id_suggestions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_suggestion_links_linked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_links_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_links')),
    sa.UniqueConstraint('suggestion_id', 'earlier_id', name=op.f('uq_suggestion_links_suggestion_id_earlier_id'))
    )
    op.create_index('ix_suggestion_links_earlier_id', 'suggestion_links', ['earlier_id'])

    op.create_table('suggestion_unit_rating_rules',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('w_on_time', sa.Integer(), nullable=False),
    sa.Column('w_satisfied', sa.Integer(), nullable=False),
    sa.Column('w_solved', sa.Integer(), nullable=False),
    sa.Column('w_ballot', sa.Integer(), nullable=False),
    sa.Column('w_second', sa.Integer(), nullable=False),
    sa.Column('w_overdue', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('w_on_time >= 0 AND w_satisfied >= 0 AND w_solved >= 0 AND w_ballot >= 0 AND w_second >= 0 AND w_overdue >= 0', name=op.f('ck_suggestion_unit_rating_rules_weights')),
    sa.CheckConstraint('year >= 2000 AND year <= 2100', name=op.f('ck_suggestion_unit_rating_rules_year')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_suggestion_unit_rating_rules_ballot_id_ballots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_suggestion_unit_rating_rules_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_suggestion_unit_rating_rules'))
    )


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM users WHERE role = 'leader'")).scalar():
        raise RuntimeError("0015_supervision_and_rating: leader accounts exist: change or delete them first")
    for table in ('suggestion_unit_rating_rules', 'suggestion_links', 'suggestion_carry_rounds',
                  'suggestion_unit_interviews', 'suggestion_followup_visits', 'suggestion_followup_samples',
                  'suggestion_plan_progress', 'suggestion_plan_milestones', 'suggestion_plans',
                  'suggestion_supervisions'):
        op.drop_table(table)
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys_off(bind)
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_suggestions_key_leader_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_suggestions_key_leader_id'))
        batch_op.drop_column('key_leader_id')
    _users_role_check(bind, ROLES_BEFORE)
    if sqlite:
        _foreign_keys_on(bind)
