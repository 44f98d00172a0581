"""SMS consent (同意接收短信通知) on cases: a constituent who leaves a mobile on the public message form or
the kiosk may agree to an SMS (receipt code and tracking address) when the answer is sent.

One column added to ``cases`` (NOT NULL, default false: every existing case keeps "no consent", so no
constituent gets an SMS they did not ask for). No table is rebuilt. The rule "consent needs a mobile"
is checked by ``core.cases.open_case``.

Revision ID: 0019_constituent_notices
Revises: 0018_full_text_search
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_constituent_notices'
down_revision = '0018_full_text_search'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('sms_consent', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('cases') as batch_op:
        batch_op.drop_column('sms_consent')
