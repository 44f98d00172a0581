"""Stale edits (issue 17): a row version on the records two people edit — notices, suggestions,
deputies and stations. SQLAlchemy bumps it on every UPDATE (version_id_col) and an edit form carries
the version it showed, so a save from an older form is refused instead of reverting the other edit.
Existing rows start at version 1.

Revision ID: 0011_security_records
Revises: 0010_notifications
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_security_records'
down_revision = '0010_notifications'
branch_labels = None
depends_on = None

TABLES = ('notices', 'suggestions', 'deputies', 'stations')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('row_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('row_version')
