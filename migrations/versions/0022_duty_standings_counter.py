"""The change counter of the year's duty ranking: every committed change to duty activities, points
rules, scoring years, absences, deputies, groups or memberships bumps it (core/counters.py), and a
worker keeps the ranking it computed while the counter stays the same (issue 18: the evaluation page at
city size). One row in ``content_versions``; no table changes. Without the row nothing is remembered.

Revision ID: 0022_duty_standings_counter
Revises: 0021_duty_activity_month_index
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_duty_standings_counter'
down_revision = '0021_duty_activity_month_index'
branch_labels = None
depends_on = None

content_versions = sa.table('content_versions', sa.column('name', sa.String), sa.column('version', sa.BigInteger))


def upgrade():
    op.bulk_insert(content_versions, [{'name': 'duty_standings', 'version': 0}])


def downgrade():
    op.execute(content_versions.delete().where(content_versions.c.name == 'duty_standings'))
