"""Motions (议案) and where a suggestion came from (a 社情民意 case, a converted motion).

- motions, motion_signers (联名), motion_reviews (the presidium's or the 议案审查委员会's review, once).
- suggestions.from_case_id (a deputy's 社情民意 case turned into a draft suggestion) and
  suggestions.from_motion_id (a motion converted into a suggestion, 转为建议): nullable, UNIQUE, so a
  case or a motion becomes one suggestion at most.

The revision id keeps the name it was given, but no full-text index is created here: issue 19 §5's
search (pg_trgm / FTS5) was not built in this round.

Revision ID: 0016_motions_drive_search
Revises: 0015_supervision_and_rating
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_motions_drive_search'
down_revision = '0015_supervision_and_rating'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('motions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('lead_deputy_id', sa.Integer(), nullable=False),
    sa.Column('delegation', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'agenda', 'converted', 'decided')",
                       name=op.f('ck_motions_status')),
    sa.CheckConstraint("decision IS NULL OR decision IN ('passed', 'failed', 'referred', 'withdrawn')",
                       name=op.f('ck_motions_decision')),
    sa.CheckConstraint("(number IS NULL) = (status = 'draft')", name=op.f('ck_motions_numbered')),
    sa.CheckConstraint("(decision IS NULL) = (status <> 'decided')", name=op.f('ck_motions_decided')),
    sa.CheckConstraint('number IS NULL OR number >= 1', name=op.f('ck_motions_number')),
    sa.ForeignKeyConstraint(['lead_deputy_id'], ['deputies.id'], name=op.f('fk_motions_lead_deputy_id_deputies'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['congress_sessions.id'],
                            name=op.f('fk_motions_session_id_congress_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_motions')),
    sa.UniqueConstraint('session_id', 'number', name=op.f('uq_motions_session_id_number'))
    )
    with op.batch_alter_table('motions', schema=None) as batch_op:
        batch_op.create_index('ix_motions_register', ['session_id', 'status', 'number'], unique=False)
        batch_op.create_index('ix_motions_lead_deputy_id', ['lead_deputy_id'], unique=False)

    op.create_table('motion_signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('motion_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('invited', 'confirmed', 'declined')", name=op.f('ck_motion_signers_state')),
    sa.CheckConstraint("(state = 'invited') = (answered_at IS NULL)", name=op.f('ck_motion_signers_answered')),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_motion_signers_deputy_id_deputies'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['motion_id'], ['motions.id'], name=op.f('fk_motion_signers_motion_id_motions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_motion_signers')),
    sa.UniqueConstraint('motion_id', 'deputy_id', name=op.f('uq_motion_signers_motion_id_deputy_id'))
    )
    with op.batch_alter_table('motion_signers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_motion_signers_deputy_id'), ['deputy_id'], unique=False)

    op.create_table('motion_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('motion_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('body', sa.String(length=16), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("body IN ('presidium', 'committee')", name=op.f('ck_motion_reviews_body')),
    sa.CheckConstraint("decision IN ('agenda', 'convert')", name=op.f('ck_motion_reviews_decision')),
    sa.ForeignKeyConstraint(['motion_id'], ['motions.id'], name=op.f('fk_motion_reviews_motion_id_motions'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_motion_reviews_recorded_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_motion_reviews')),
    sa.UniqueConstraint('motion_id', name=op.f('uq_motion_reviews_motion_id'))
    )

    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds suggestions to add the foreign keys (batch mode). With foreign keys on, dropping
        # the old table would run an implicit DELETE: the CASCADE children (co-signers, reviews, answers,
        # contacts, carry-overs) would be emptied. Foreign keys off around the rebuild (a pragma that only
        # works between transactions), then foreign_key_check, as 0008 does.
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('from_motion_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_suggestions_from_case_id_cases'), 'cases', ['from_case_id'],
                                    ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_suggestions_from_motion_id_motions'), 'motions',
                                    ['from_motion_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_unique_constraint(batch_op.f('uq_suggestions_from_case_id'), ['from_case_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_suggestions_from_motion_id'), ['from_motion_id'])
    if sqlite:
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"0016_motions_drive_search: foreign keys broken by the rebuild: {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")


def downgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:  # the same rebuild as in upgrade(): foreign keys off around it
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_suggestions_from_motion_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_suggestions_from_case_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_suggestions_from_motion_id_motions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_suggestions_from_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('from_motion_id')
        batch_op.drop_column('from_case_id')
    if sqlite:
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
    op.drop_table('motion_reviews')
    with op.batch_alter_table('motion_signers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_motion_signers_deputy_id'))
    op.drop_table('motion_signers')
    with op.batch_alter_table('motions', schema=None) as batch_op:
        batch_op.drop_index('ix_motions_lead_deputy_id')
        batch_op.drop_index('ix_motions_register')
    op.drop_table('motions')
