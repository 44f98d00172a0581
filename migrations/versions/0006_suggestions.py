"""Deputy suggestions: congress sessions, suggestions (linked to their core case), co-signers,
pre-reviews, revisions, per-round answers with reply letters, 三沟通 contacts and carry-overs.

Revision ID: 0006_suggestions
Revises: 0005_ballots
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_suggestions'
down_revision = '0005_ballots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('congress_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('accepting', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('closes_on IS NULL OR closes_on >= opens_on', name=op.f('ck_congress_sessions_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_congress_sessions')),
    sa.UniqueConstraint('name', name=op.f('uq_congress_sessions_name'))
    )
    with op.batch_alter_table('congress_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_congress_sessions_year'), ['year'], unique=False)

    op.create_table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('lead_deputy_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('timing', sa.String(length=8), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('registered_at', sa.DateTime(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('main_unit_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('reply_class', sa.String(length=1), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_on_time', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('reply_withheld', sa.Boolean(), nullable=False),
    sa.Column('withheld_reason', sa.String(length=255), nullable=True),
    sa.Column('is_key', sa.Boolean(), nullable=False),
    sa.Column('key_leader', sa.String(length=64), nullable=True),
    sa.Column('carried_to_year', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(number IS NULL) = (status IN ('draft', 'submitted', 'returned'))", name=op.f('ck_suggestions_registered')),
    sa.CheckConstraint("category IN ('economy', 'urban', 'transport', 'agriculture', 'education', 'health', 'social', 'environment', 'law', 'other')", name=op.f('ck_suggestions_category')),
    sa.CheckConstraint("rating IS NULL OR rating IN ('satisfied', 'basically', 'unsatisfied')", name=op.f('ck_suggestions_rating')),
    sa.CheckConstraint("reply_class IS NULL OR reply_class IN ('A', 'B', 'C')", name=op.f('ck_suggestions_reply_class')),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'returned', 'registered', 'assigned', 'answered', 'closed')", name=op.f('ck_suggestions_status')),
    sa.CheckConstraint("timing IS NULL OR timing IN ('session', 'recess')", name=op.f('ck_suggestions_timing')),
    sa.CheckConstraint('NOT is_key OR key_leader IS NOT NULL', name=op.f('ck_suggestions_key_leader')),
    sa.CheckConstraint('NOT reply_withheld OR withheld_reason IS NOT NULL', name=op.f('ck_suggestions_withheld_reason')),
    sa.CheckConstraint('number IS NULL OR number >= 1', name=op.f('ck_suggestions_number')),
    sa.CheckConstraint('round >= 1 AND round <= 2', name=op.f('ck_suggestions_round')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_suggestions_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['lead_deputy_id'], ['deputies.id'], name=op.f('fk_suggestions_lead_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['main_unit_id'], ['handling_units.id'], name=op.f('fk_suggestions_main_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['congress_sessions.id'], name=op.f('fk_suggestions_session_id_congress_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    sa.UniqueConstraint('case_id', name=op.f('uq_suggestions_case_id')),
    sa.UniqueConstraint('session_id', 'number', name=op.f('uq_suggestions_session_id_number'))
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_lead_status', ['lead_deputy_id', 'status'], unique=False)
        batch_op.create_index('ix_suggestions_register', ['session_id', 'status', 'number'], unique=False)
        batch_op.create_index('ix_suggestions_unit_status', ['main_unit_id', 'status'], unique=False)

    op.create_table('suggestion_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reply_class', sa.String(length=1), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('promised_on', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('letter_filename', sa.String(length=200), nullable=True),
    sa.Column('letter_content_type', sa.String(length=100), nullable=True),
    sa.Column('letter_data', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("reply_class <> 'B' OR promised_on IS NOT NULL", name=op.f('ck_suggestion_answers_promised_on')),
    sa.CheckConstraint("reply_class <> 'C' OR reasons IS NOT NULL", name=op.f('ck_suggestion_answers_reasons')),
    sa.CheckConstraint("reply_class IN ('A', 'B', 'C')", name=op.f('ck_suggestion_answers_reply_class')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_suggestion_answers_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_answers_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_answers_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_answers')),
    sa.UniqueConstraint('suggestion_id', 'round', name=op.f('uq_suggestion_answers_suggestion_id_round'))
    )
    op.create_table('suggestion_carry_overs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('carried_at', sa.DateTime(), nullable=False),
    sa.Column('carried_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("reason IN ('B', 'unsatisfied')", name=op.f('ck_suggestion_carry_overs_reason')),
    sa.ForeignKeyConstraint(['carried_by_id'], ['users.id'], name=op.f('fk_suggestion_carry_overs_carried_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_carry_overs_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_carry_overs')),
    sa.UniqueConstraint('suggestion_id', 'year', name=op.f('uq_suggestion_carry_overs_suggestion_id_year'))
    )
    with op.batch_alter_table('suggestion_carry_overs', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_carry_overs_year', ['year'], unique=False)

    op.create_table('suggestion_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=8), nullable=False),
    sa.Column('way', sa.String(length=8), nullable=False),
    sa.Column('contacted_on', sa.Date(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("stage IN ('before', 'during', 'after')", name=op.f('ck_suggestion_contacts_stage')),
    sa.CheckConstraint("way IN ('visit', 'meeting', 'site', 'phone', 'letter')", name=op.f('ck_suggestion_contacts_way')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_suggestion_contacts_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_contacts_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_suggestion_contacts_unit_id_handling_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_contacts'))
    )
    with op.batch_alter_table('suggestion_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_contacts_suggestion_id', ['suggestion_id'], unique=False)

    op.create_table('suggestion_cosigners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("(state = 'invited') = (answered_at IS NULL)", name=op.f('ck_suggestion_cosigners_answered')),
    sa.CheckConstraint("state IN ('invited', 'confirmed', 'declined')", name=op.f('ck_suggestion_cosigners_state')),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_suggestion_cosigners_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_cosigners_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_cosigners')),
    sa.UniqueConstraint('suggestion_id', 'deputy_id', name=op.f('uq_suggestion_cosigners_suggestion_id_deputy_id'))
    )
    with op.batch_alter_table('suggestion_cosigners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_cosigners_deputy_id'), ['deputy_id'], unique=False)

    op.create_table('suggestion_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_name', sa.String(length=64), nullable=False),
    sa.Column('reviewer_kind', sa.String(length=8), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("decision IN ('pass', 'return')", name=op.f('ck_suggestion_reviews_decision')),
    sa.CheckConstraint("reviewer_kind IN ('group', 'office')", name=op.f('ck_suggestion_reviews_reviewer_kind')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_suggestion_reviews_reviewer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_reviews_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_reviews'))
    )
    with op.batch_alter_table('suggestion_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_reviews_suggestion_id', ['suggestion_id'], unique=False)

    op.create_table('suggestion_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('revised_at', sa.DateTime(), nullable=False),
    sa.Column('revised_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['revised_by_id'], ['users.id'], name=op.f('fk_suggestion_revisions_revised_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_revisions_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_revisions')),
    sa.UniqueConstraint('suggestion_id', 'revision', name=op.f('uq_suggestion_revisions_suggestion_id_revision'))
    )


def downgrade():
    op.drop_table('suggestion_revisions')
    with op.batch_alter_table('suggestion_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_reviews_suggestion_id')

    op.drop_table('suggestion_reviews')
    with op.batch_alter_table('suggestion_cosigners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_cosigners_deputy_id'))

    op.drop_table('suggestion_cosigners')
    with op.batch_alter_table('suggestion_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_contacts_suggestion_id')

    op.drop_table('suggestion_contacts')
    with op.batch_alter_table('suggestion_carry_overs', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_carry_overs_year')

    op.drop_table('suggestion_carry_overs')
    op.drop_table('suggestion_answers')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_unit_status')
        batch_op.drop_index('ix_suggestions_register')
        batch_op.drop_index('ix_suggestions_lead_status')

    op.drop_table('suggestions')
    with op.batch_alter_table('congress_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_congress_sessions_year'))

    op.drop_table('congress_sessions')
