"""Meeting notices (会议通知) with 回执 and 请假: one notice per meeting, one answer per deputy on its roll.

Only new tables (no existing table is altered). An answer is 参加 (attend) or 请假 (leave) with a
reason; a leave request carries the staff's decision (pending, approved, refused). An approved leave is
an excused absence (blueprints/ballots/notices.py).

Revision ID: 0017_meeting_notices
Revises: 0016_motions_drive_search
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_meeting_notices'
down_revision = '0016_motions_drive_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('meeting_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=True),
    sa.Column('starts', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_notices_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_meeting_notices_sent_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_notices')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_meeting_notices_meeting_id'))
    )
    # One answer per deputy and notice; a leave request has a reason and a decision state.
    op.create_table('meeting_notice_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=False),
    sa.Column('leave_status', sa.String(length=16), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=255), nullable=True),
    sa.CheckConstraint("answer IN ('attend', 'leave')", name=op.f('ck_meeting_notice_replies_answer')),
    sa.CheckConstraint("leave_status IS NULL OR leave_status IN ('pending', 'approved', 'refused')",
                       name=op.f('ck_meeting_notice_replies_leave_status')),
    sa.CheckConstraint("(answer = 'leave' AND reason IS NOT NULL AND leave_status IS NOT NULL)"
                       " OR (answer = 'attend' AND leave_status IS NULL)",
                       name=op.f('ck_meeting_notice_replies_leave_has_reason')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_meeting_notice_replies_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_meeting_notice_replies_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notice_id'], ['meeting_notices.id'], name=op.f('fk_meeting_notice_replies_notice_id_meeting_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_notice_replies')),
    sa.UniqueConstraint('notice_id', 'deputy_id', name=op.f('uq_meeting_notice_replies_notice_id_deputy_id'))
    )
    op.create_index(op.f('ix_meeting_notice_replies_deputy_id'), 'meeting_notice_replies', ['deputy_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_meeting_notice_replies_deputy_id'), table_name='meeting_notice_replies')
    op.drop_table('meeting_notice_replies')
    op.drop_table('meeting_notices')
