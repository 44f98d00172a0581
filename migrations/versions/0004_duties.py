"""Duty registration: activities, attachments, corrections, points rules by year, absences,
reminders, congress terms, reports to voters and their QR assessments.

Revision ID: 0004_duties
Revises: 0003_stations
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_duties'
down_revision = '0003_stations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duty_congress_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on > starts_on', name=op.f('ck_duty_congress_terms_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_congress_terms')),
    sa.UniqueConstraint('level', 'name', name=op.f('uq_duty_congress_terms_level_name'))
    )
    op.create_table('duty_scoring_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('absence_deduction', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('min_standing_committee', sa.Integer(), nullable=False),
    sa.Column('min_survey', sa.Integer(), nullable=False),
    sa.Column('min_inspection', sa.Integer(), nullable=False),
    sa.Column('rules_published_at', sa.DateTime(), nullable=True),
    sa.Column('results_published_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('absence_deduction >= 0', name=op.f('ck_duty_scoring_years_absence_deduction')),
    sa.CheckConstraint('min_standing_committee >= 0 AND min_survey >= 0 AND min_inspection >= 0', name=op.f('ck_duty_scoring_years_minimums')),
    sa.CheckConstraint('year >= 2000 AND year <= 2100', name=op.f('ck_duty_scoring_years_year')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_duty_scoring_years'))
    )
    op.create_table('duty_points_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('points', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('annual_cap', sa.Numeric(precision=7, scale=1), nullable=True),
    sa.CheckConstraint("type_code IN ('congress_session', 'standing_committee', 'inspection', 'survey', 'law_check', 'reception', 'contact', 'group_activity', 'training', 'suggestion_lead', 'suggestion_cosign', 'public_opinion', 'voter_report', 'other')", name=op.f('ck_duty_points_rules_type_code')),
    sa.CheckConstraint('annual_cap IS NULL OR annual_cap >= 0', name=op.f('ck_duty_points_rules_annual_cap')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_duty_points_rules_points')),
    sa.ForeignKeyConstraint(['year'], ['duty_scoring_years.year'], name=op.f('fk_duty_points_rules_year_duty_scoring_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_points_rules')),
    sa.UniqueConstraint('year', 'type_code', name=op.f('uq_duty_points_rules_year_type_code'))
    )
    op.create_table('duty_voter_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=False),
    sa.Column('constituency', sa.String(length=64), nullable=True),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('attendance', sa.Integer(), nullable=True),
    sa.Column('questions', sa.Text(), nullable=True),
    sa.Column('paper_satisfied', sa.Integer(), nullable=False),
    sa.Column('paper_basic', sa.Integer(), nullable=False),
    sa.Column('paper_unsatisfied', sa.Integer(), nullable=False),
    sa.Column('qr_token', sa.String(length=32), nullable=False),
    sa.Column('qr_open', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('attendance IS NULL OR attendance >= 0', name=op.f('ck_duty_voter_reports_attendance')),
    sa.CheckConstraint('paper_satisfied >= 0 AND paper_basic >= 0 AND paper_unsatisfied >= 0', name=op.f('ck_duty_voter_reports_paper')),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_duty_voter_reports_deputy_id_deputies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_voter_reports')),
    sa.UniqueConstraint('qr_token', name=op.f('uq_duty_voter_reports_qr_token'))
    )
    with op.batch_alter_table('duty_voter_reports', schema=None) as batch_op:
        batch_op.create_index('ix_duty_voter_reports_deputy', ['deputy_id', 'scheduled_on'], unique=False)

    op.create_table('duty_absences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_duty_absences_deputy_id_deputies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_duty_absences_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_absences')),
    sa.UniqueConstraint('deputy_id', 'occurred_on', name=op.f('uq_duty_absences_deputy_id_occurred_on'))
    )
    with op.batch_alter_table('duty_absences', schema=None) as batch_op:
        batch_op.create_index('ix_duty_absences_year', ['year'], unique=False)

    op.create_table('duty_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('return_reason', sa.String(length=255), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'verified', 'returned')", name=op.f('ck_duty_activities_status')),
    sa.CheckConstraint("type_code IN ('congress_session', 'standing_committee', 'inspection', 'survey', 'law_check', 'reception', 'contact', 'group_activity', 'training', 'suggestion_lead', 'suggestion_cosign', 'public_opinion', 'voter_report', 'other')", name=op.f('ck_duty_activities_type_code')),
    sa.CheckConstraint('duration_minutes IS NULL OR (duration_minutes > 0 AND duration_minutes <= 10080)', name=op.f('ck_duty_activities_duration')),
    sa.CheckConstraint('year >= 2000 AND year <= 2100', name=op.f('ck_duty_activities_year')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_duty_activities_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_duty_activities_deputy_id_deputies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_duty_activities_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_activities')),
    sa.UniqueConstraint('source', 'source_ref', 'deputy_id', name=op.f('uq_duty_activities_source_source_ref_deputy_id'))
    )
    with op.batch_alter_table('duty_activities', schema=None) as batch_op:
        batch_op.create_index('ix_duty_activities_deputy_date', ['deputy_id', 'occurred_on', 'id'], unique=False)
        batch_op.create_index('ix_duty_activities_ranking', ['year', 'status', 'deputy_id', 'type_code'], unique=False)
        batch_op.create_index('ix_duty_activities_status_id', ['status', 'id'], unique=False)

    op.create_table('duty_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_duty_reminders_deputy_id_deputies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_duty_reminders_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_reminders')),
    sa.UniqueConstraint('deputy_id', 'year', name=op.f('uq_duty_reminders_deputy_id_year'))
    )
    op.create_table('duty_report_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("choice IN ('satisfied', 'basic', 'unsatisfied')", name=op.f('ck_duty_report_assessments_choice')),
    sa.ForeignKeyConstraint(['report_id'], ['duty_voter_reports.id'], name=op.f('fk_duty_report_assessments_report_id_duty_voter_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_report_assessments')),
    sa.UniqueConstraint('report_id', 'device_hash', name=op.f('uq_duty_report_assessments_report_id_device_hash'))
    )
    op.create_table('duty_activity_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=128), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['duty_activities.id'], name=op.f('fk_duty_activity_attachments_activity_id_duty_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_activity_attachments'))
    )
    with op.batch_alter_table('duty_activity_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_activity_attachments_activity_id'), ['activity_id'], unique=False)

    op.create_table('duty_activity_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['duty_activities.id'], name=op.f('fk_duty_activity_corrections_activity_id_duty_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_duty_activity_corrections_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_activity_corrections'))
    )
    with op.batch_alter_table('duty_activity_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_activity_corrections_activity_id'), ['activity_id'], unique=False)



def downgrade():
    with op.batch_alter_table('duty_activity_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_activity_corrections_activity_id'))

    op.drop_table('duty_activity_corrections')
    with op.batch_alter_table('duty_activity_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_activity_attachments_activity_id'))

    op.drop_table('duty_activity_attachments')
    op.drop_table('duty_report_assessments')
    op.drop_table('duty_reminders')
    with op.batch_alter_table('duty_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_activities_status_id')
        batch_op.drop_index('ix_duty_activities_ranking')
        batch_op.drop_index('ix_duty_activities_deputy_date')

    op.drop_table('duty_activities')
    with op.batch_alter_table('duty_absences', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_absences_year')

    op.drop_table('duty_absences')
    with op.batch_alter_table('duty_voter_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_voter_reports_deputy')

    op.drop_table('duty_voter_reports')
    op.drop_table('duty_points_rules')
    op.drop_table('duty_scoring_years')
    op.drop_table('duty_congress_terms')
