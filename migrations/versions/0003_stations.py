"""Liaison stations: the shared case workflow (cases, unit assignments, ratings, step log) and the
stations' reception days, rota and reception records.

Revision ID: 0003_stations
Revises: 0002_noticeboard
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003_stations'
down_revision = '0002_noticeboard'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('receipt_code', sa.String(length=8), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('deputy_id', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=32), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(status = 'merged') = (merged_into_id IS NOT NULL)", name=op.f('ck_cases_merged')),
    sa.CheckConstraint("source IN ('reception', 'message', 'kiosk', 'deputy', 'suggestion')", name=op.f('ck_cases_source')),
    sa.CheckConstraint("status IN ('new', 'assigned', 'answered', 'sent', 'closed', 'merged')", name=op.f('ck_cases_status')),
    sa.CheckConstraint('round >= 1 AND round <= 2', name=op.f('ck_cases_round')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_cases_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['cases.id'], name=op.f('fk_cases_merged_into_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_cases_station_id_stations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('receipt_code', name=op.f('uq_cases_receipt_code'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_answered_at', ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_deputy_id'), ['deputy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_source_ref'), ['source_ref'], unique=False)
        batch_op.create_index('ix_cases_station_created', ['station_id', 'created_at'], unique=False)
        batch_op.create_index('ix_cases_status_created', ['status', 'created_at'], unique=False)

    op.create_table('case_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('reply_class', sa.String(length=1), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('extension_until', sa.Date(), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.CheckConstraint("(state = 'replied') = (replied_at IS NOT NULL)", name=op.f('ck_case_assignments_replied')),
    sa.CheckConstraint("reply_class IS NULL OR reply_class IN ('A', 'B', 'C')", name=op.f('ck_case_assignments_reply_class')),
    sa.CheckConstraint("role IN ('main', 'assist')", name=op.f('ck_case_assignments_role')),
    sa.CheckConstraint("state IN ('pending', 'replied', 'declined', 'withdrawn')", name=op.f('ck_case_assignments_state')),
    sa.CheckConstraint('(extension_until IS NULL) = (extension_reason IS NULL)', name=op.f('ck_case_assignments_extension')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_case_assignments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_assignments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'], name=op.f('fk_case_assignments_replied_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_case_assignments_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assignments'))
    )
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_case_assignments_state_deadline', ['state', 'role', 'deadline'], unique=False)
        batch_op.create_index('ix_case_assignments_unit_state', ['unit_id', 'state', 'deadline'], unique=False)

    op.create_table('case_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=False),
    sa.Column('rater', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('rated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("rater IN ('constituent', 'deputy', 'staff')", name=op.f('ck_case_ratings_rater')),
    sa.CheckConstraint("rating IN ('satisfied', 'basically', 'unsatisfied')", name=op.f('ck_case_ratings_rating')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_ratings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rated_by_id'], ['users.id'], name=op.f('fk_case_ratings_rated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ratings')),
    sa.UniqueConstraint('case_id', 'round', name=op.f('uq_case_ratings_case_id_round'))
    )
    op.create_table('case_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_steps_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_steps_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_case_steps_unit_id_handling_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_steps'))
    )
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.create_index('ix_case_steps_case_id_id', ['case_id', 'id'], unique=False)

    # ---- stations: reception rules and days, duty rota, reception records ----
    op.create_table('reception_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=True),
    sa.Column('invited', sa.String(length=255), nullable=True),
    sa.Column('public_note', sa.String(length=255), nullable=True),
    sa.Column('moved_from', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind <> 'themed' OR theme IS NOT NULL", name=op.f('ck_reception_days_theme')),
    sa.CheckConstraint("kind IN ('regular', 'themed')", name=op.f('ck_reception_days_kind')),
    sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name=op.f('ck_reception_days_status')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_reception_days_hours')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_reception_days_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_days')),
    sa.UniqueConstraint('station_id', 'day', 'start_time', name=op.f('uq_reception_days_station_id_day_start_time'))
    )
    with op.batch_alter_table('reception_days', schema=None) as batch_op:
        batch_op.create_index('ix_reception_days_day_station', ['day', 'station_id'], unique=False)

    op.create_table('reception_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('month_days', sa.String(length=64), nullable=True),
    sa.Column('nth', sa.Integer(), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('deputies_per_day', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind <> 'nth_weekday' OR (weekday BETWEEN 0 AND 6 AND nth IN (1, 2, 3, 4, -1))", name=op.f('ck_reception_rules_nth_weekday')),
    sa.CheckConstraint("kind IN ('month_days', 'nth_weekday')", name=op.f('ck_reception_rules_kind')),
    sa.CheckConstraint('deputies_per_day >= 1 AND deputies_per_day <= 10', name=op.f('ck_reception_rules_per_day')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_reception_rules_hours')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_reception_rules_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_rules')),
    sa.UniqueConstraint('station_id', name=op.f('uq_reception_rules_station_id'))
    )
    op.create_table('duty_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reception_day_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_duty_assignments_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reception_day_id'], ['reception_days.id'], name=op.f('fk_duty_assignments_reception_day_id_reception_days'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_duty_assignments_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_assignments')),
    sa.UniqueConstraint('deputy_id', 'day', name=op.f('uq_duty_assignments_deputy_id_day'))
    )
    with op.batch_alter_table('duty_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_assignments_reception_day_id'), ['reception_day_id'], unique=False)
        batch_op.create_index('ix_duty_assignments_station_day', ['station_id', 'day'], unique=False)

    op.create_table('receptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('reception_day_id', sa.Integer(), nullable=True),
    sa.Column('visited_at', sa.DateTime(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('visitor_name', sa.String(length=32), nullable=True),
    sa.Column('visitor_phone', sa.String(length=20), nullable=True),
    sa.Column('answered_on_spot', sa.Boolean(), nullable=False),
    sa.Column('spot_answer', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category IN ('urban', 'transport', 'education', 'health', 'social', 'environment', 'security', 'agriculture', 'other')", name=op.f('ck_receptions_category')),
    sa.CheckConstraint('consent OR (visitor_name IS NULL AND visitor_phone IS NULL)', name=op.f('ck_receptions_consent')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_receptions_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reception_day_id'], ['reception_days.id'], name=op.f('fk_receptions_reception_day_id_reception_days'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_receptions_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_receptions_station_id_stations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receptions')),
    sa.UniqueConstraint('case_id', name=op.f('uq_receptions_case_id'))
    )
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receptions_reception_day_id'), ['reception_day_id'], unique=False)
        batch_op.create_index('ix_receptions_station_visited', ['station_id', 'visited_at'], unique=False)

    op.create_table('reception_deputies',
    sa.Column('reception_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_reception_deputies_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reception_id'], ['receptions.id'], name=op.f('fk_reception_deputies_reception_id_receptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reception_id', 'deputy_id', name=op.f('pk_reception_deputies'))
    )


def downgrade():
    op.drop_table('reception_deputies')
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.drop_index('ix_receptions_station_visited')
        batch_op.drop_index(batch_op.f('ix_receptions_reception_day_id'))

    op.drop_table('receptions')
    with op.batch_alter_table('duty_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_assignments_station_day')
        batch_op.drop_index(batch_op.f('ix_duty_assignments_reception_day_id'))

    op.drop_table('duty_assignments')
    op.drop_table('reception_rules')
    with op.batch_alter_table('reception_days', schema=None) as batch_op:
        batch_op.drop_index('ix_reception_days_day_station')

    op.drop_table('reception_days')

    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_case_steps_case_id_id')

    op.drop_table('case_steps')
    op.drop_table('case_ratings')
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_case_assignments_unit_state')
        batch_op.drop_index('ix_case_assignments_state_deadline')

    op.drop_table('case_assignments')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_created')
        batch_op.drop_index('ix_cases_station_created')
        batch_op.drop_index(batch_op.f('ix_cases_source_ref'))
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_cases_deputy_id'))
        batch_op.drop_index('ix_cases_answered_at')

    op.drop_table('cases')
