"""The annual ranking's index of duty activities also holds the activity's date, so the evaluation
page's activities-per-month chart reads the index only (issue 18, rendering cost): 100,000 activities
a year were 100,000 table lookups.

``ix_duty_activities_ranking`` (year, status, deputy_id, type_code) becomes (year, status, deputy_id,
type_code, occurred_on); the ranking aggregate reads it as before. No row changes.

Revision ID: 0021_duty_activity_month_index
Revises: 0020_occasion_notices
Create Date: 2026-12-02
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_duty_activity_month_index'
down_revision = '0020_occasion_notices'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_duty_activities_ranking', table_name='duty_activities')
    op.create_index('ix_duty_activities_ranking', 'duty_activities',
                    ['year', 'status', 'deputy_id', 'type_code', 'occurred_on'])


def downgrade():
    op.drop_index('ix_duty_activities_ranking', table_name='duty_activities')
    op.create_index('ix_duty_activities_ranking', 'duty_activities', ['year', 'status', 'deputy_id', 'type_code'])
