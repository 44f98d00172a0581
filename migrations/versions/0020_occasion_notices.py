"""Notices of occasions without a congress meeting (常委会会议, 代表小组活动, 向选民述职): each with its own
roll (one recipient row per deputy, UNIQUE) carrying that deputy's one answer: 参加, or 请假 with a reason
and the staff's decision (blueprints/ballots/occasions.py).

Only new tables (no existing table is altered; meeting notices of 0017 are untouched).

Revision ID: 0020_occasion_notices
Revises: 0019_constituent_notices
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_occasion_notices'
down_revision = '0019_constituent_notices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('occasion_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=True),
    sa.Column('starts', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('standing', 'group', 'report')", name=op.f('ck_occasion_notices_kind')),
    sa.CheckConstraint("(kind = 'group' AND group_id IS NOT NULL) OR (kind <> 'group' AND group_id IS NULL)",
                       name=op.f('ck_occasion_notices_group_kind')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_occasion_notices_area_id_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['group_id'], ['deputy_groups.id'], name=op.f('fk_occasion_notices_group_id_deputy_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_occasion_notices_sent_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occasion_notices'))
    )
    op.create_index(op.f('ix_occasion_notices_group_id'), 'occasion_notices', ['group_id'], unique=False)
    # The roll: one row per deputy and notice, with that deputy's one answer (NULL until they answer).
    op.create_table('occasion_notice_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('leave_status', sa.String(length=16), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=255), nullable=True),
    sa.CheckConstraint("answer IS NULL OR answer IN ('attend', 'leave')",
                       name=op.f('ck_occasion_notice_recipients_answer')),
    sa.CheckConstraint("leave_status IS NULL OR leave_status IN ('pending', 'approved', 'refused')",
                       name=op.f('ck_occasion_notice_recipients_leave_status')),
    sa.CheckConstraint("(answer = 'leave' AND reason IS NOT NULL AND leave_status IS NOT NULL)"
                       " OR (answer = 'attend' AND leave_status IS NULL)"
                       " OR (answer IS NULL AND reason IS NULL AND leave_status IS NULL)",
                       name=op.f('ck_occasion_notice_recipients_leave_has_reason')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_occasion_notice_recipients_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_occasion_notice_recipients_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notice_id'], ['occasion_notices.id'], name=op.f('fk_occasion_notice_recipients_notice_id_occasion_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occasion_notice_recipients')),
    sa.UniqueConstraint('notice_id', 'deputy_id', name=op.f('uq_occasion_notice_recipients_notice_id_deputy_id'))
    )
    op.create_index(op.f('ix_occasion_notice_recipients_deputy_id'), 'occasion_notice_recipients', ['deputy_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_occasion_notice_recipients_deputy_id'), table_name='occasion_notice_recipients')
    op.drop_table('occasion_notice_recipients')
    op.drop_index(op.f('ix_occasion_notices_group_id'), table_name='occasion_notices')
    op.drop_table('occasion_notices')
