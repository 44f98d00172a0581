"""Livelihood-project ballots: proposals, meetings and roll, ballots, receipts, anonymous choices,
paper counts (append-only), tracked projects and their progress.

Revision ID: 0005_ballots
Revises: 0004_duties
Create Date: 2026-11-25 08:52:52.496654

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_ballots'
down_revision = '0004_duties'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposal_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('scope_in', sa.Text(), nullable=True),
    sa.Column('scope_out', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_calls'))
    )
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('contact', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('cost_estimate', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('timeline', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('public_reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("source IN ('public', 'department')", name=op.f('ck_proposals_source')),
    sa.CheckConstraint("status <> 'merged' OR merged_into_id IS NOT NULL", name=op.f('ck_proposals_merged_has_target')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'merged', 'rejected')", name=op.f('ck_proposals_status')),
    sa.CheckConstraint('cost_estimate IS NULL OR cost_estimate >= 0', name=op.f('ck_proposals_cost_estimate')),
    sa.ForeignKeyConstraint(['call_id'], ['proposal_calls.id'], name=op.f('fk_proposals_call_id_proposal_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['proposals.id'], name=op.f('fk_proposals_merged_into_id_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_proposals_unit_id_handling_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_status'), ['status'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('term', sa.String(length=32), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('checkin_token', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    op.create_table('meeting_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['users.id'], name=op.f('fk_meeting_attendance_checked_in_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_meeting_attendance_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_attendance_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_attendance')),
    sa.UniqueConstraint('meeting_id', 'deputy_id', name=op.f('uq_meeting_attendance_meeting_id_deputy_id'))
    )
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_attendance_deputy_id'), ['deputy_id'], unique=False)

    op.create_table('livelihood_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('unit_name', sa.String(length=64), nullable=True),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('timeline', sa.String(length=64), nullable=True),
    sa.Column('source_item_id', sa.Integer(), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'in_progress', 'done')", name=op.f('ck_livelihood_projects_status')),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_livelihood_projects_progress')),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_livelihood_projects_unit_id_handling_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_livelihood_projects')),
    sa.UniqueConstraint('source_item_id', name=op.f('uq_livelihood_projects_source_item_id'))
    )
    with op.batch_alter_table('livelihood_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_livelihood_projects_unit_id'), ['unit_id'], unique=False)

    op.create_table('livelihood_project_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('milestone', sa.String(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('posted_by_name', sa.String(length=64), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_livelihood_project_updates_progress')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['users.id'], name=op.f('fk_livelihood_project_updates_posted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['livelihood_projects.id'], name=op.f('fk_livelihood_project_updates_project_id_livelihood_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_livelihood_project_updates'))
    )
    with op.batch_alter_table('livelihood_project_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_livelihood_project_updates_project_id'), ['project_id'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('max_yes', sa.Integer(), nullable=True),
    sa.Column('places', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('eligible_count', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("method IN ('approve', 'rating')", name=op.f('ck_ballots_method')),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed', 'published')", name=op.f('ck_ballots_status')),
    sa.CheckConstraint('max_yes IS NULL OR max_yes > 0', name=op.f('ck_ballots_max_yes')),
    sa.CheckConstraint('places IS NULL OR places > 0', name=op.f('ck_ballots_places')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_ballots_meeting_id_meetings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_ballots_notice_id_notices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('ballot_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('unit_name', sa.String(length=64), nullable=True),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('timeline', sa.String(length=64), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_items_ballot_id_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['livelihood_projects.id'], name=op.f('fk_ballot_items_project_id_livelihood_projects'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballot_items_proposal_id_proposals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_items'))
    )
    with op.batch_alter_table('ballot_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_items_ballot_id'), ['ballot_id'], unique=False)

    # The projects ↔ items cycle: this key is added once ballot_items exists.
    with op.batch_alter_table('livelihood_projects', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_livelihood_projects_source_item_id_ballot_items'),
                                    'ballot_items', ['source_item_id'], ['id'], ondelete='SET NULL')

    op.create_table('ballot_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IN ('electronic', 'paper')", name=op.f('ck_ballot_receipts_channel')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_receipts_ballot_id_ballots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_ballot_receipts_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_ballot_receipts_marked_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_receipts')),
    sa.UniqueConstraint('ballot_id', 'deputy_id', name=op.f('uq_ballot_receipts_ballot_id_deputy_id'))
    )
    with op.batch_alter_table('ballot_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_receipts_deputy_id'), ['deputy_id'], unique=False)



    op.create_table('ballot_choices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.CheckConstraint("choice IN ('yes', 'no', 'abstain', 'satisfied', 'basic', 'unsatisfied')", name=op.f('ck_ballot_choices_choice')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_choices_ballot_id_ballots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_id'], ['ballot_items.id'], name=op.f('fk_ballot_choices_item_id_ballot_items'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_choices')),
    sqlite_with_rowid=False,  # no rowid: SQLite stores the rows in random-id order, not voting order
    )
    with op.batch_alter_table('ballot_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_choices_ballot_id'), ['ballot_id'], unique=False)

    op.create_table('ballot_named_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_named_votes_ballot_id_ballots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_ballot_named_votes_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_id'], ['ballot_items.id'], name=op.f('fk_ballot_named_votes_item_id_ballot_items'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_named_votes')),
    sa.UniqueConstraint('item_id', 'deputy_id', name=op.f('uq_ballot_named_votes_item_id_deputy_id'))
    )
    with op.batch_alter_table('ballot_named_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_named_votes_ballot_id'), ['ballot_id'], unique=False)

    op.create_table('ballot_paper_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('count_a', sa.Integer(), nullable=False),
    sa.Column('count_b', sa.Integer(), nullable=False),
    sa.Column('count_c', sa.Integer(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('count_a >= 0 AND count_b >= 0 AND count_c >= 0', name=op.f('ck_ballot_paper_counts_non_negative')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_paper_counts_ballot_id_ballots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['corrects_id'], ['ballot_paper_counts.id'], name=op.f('fk_ballot_paper_counts_corrects_id_ballot_paper_counts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_ballot_paper_counts_entered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['ballot_items.id'], name=op.f('fk_ballot_paper_counts_item_id_ballot_items'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_paper_counts')),
    sa.UniqueConstraint('corrects_id', name=op.f('uq_ballot_paper_counts_corrects_id'))
    )
    with op.batch_alter_table('ballot_paper_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_paper_counts_ballot_id'), ['ballot_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ballot_paper_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_paper_counts_ballot_id'))

    op.drop_table('ballot_paper_counts')
    with op.batch_alter_table('ballot_named_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_named_votes_ballot_id'))

    op.drop_table('ballot_named_votes')
    with op.batch_alter_table('ballot_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_choices_ballot_id'))

    op.drop_table('ballot_choices')
    with op.batch_alter_table('ballot_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_receipts_deputy_id'))

    op.drop_table('ballot_receipts')
    with op.batch_alter_table('livelihood_projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_livelihood_projects_source_item_id_ballot_items'), type_='foreignkey')

    with op.batch_alter_table('ballot_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_items_ballot_id'))

    op.drop_table('ballot_items')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_meeting_id'))

    op.drop_table('ballots')
    with op.batch_alter_table('livelihood_project_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_livelihood_project_updates_project_id'))

    op.drop_table('livelihood_project_updates')
    with op.batch_alter_table('livelihood_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_livelihood_projects_unit_id'))

    op.drop_table('livelihood_projects')
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_attendance_deputy_id'))

    op.drop_table('meeting_attendance')
    op.drop_table('meetings')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_call_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_status'))

    op.drop_table('proposals')
    op.drop_table('proposal_calls')
