"""The ballot box: sealed votes while a ballot is open, the ballot's key pair, trackers on receipts;
a township congress's township (meetings.area_id).

A vote is now one sealed box (blueprints/ballots/sealing.py) in ballot_sealed_votes; the plaintext
choices are written when the ballot closes. Closed and published ballots keep their choices, receipts
and results exactly as before (they get no tracker: their votes were never sealed). A ballot that is
open at upgrade time would have half of its votes in plaintext and half sealed, so the upgrade
refuses it: close it with the previous release first.

Revision ID: 0008_ballot_box
Revises: 0007_project_inspections
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_ballot_box'
down_revision = '0007_project_inspections'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    open_ballots = bind.execute(sa.text("SELECT id, title FROM ballots WHERE status = 'open' ORDER BY id")).all()
    if open_ballots:
        names = ", ".join(f"#{row.id} {row.title}" for row in open_ballots)
        raise RuntimeError(
            f"0008_ballot_box: ballots still open for voting: {names}. Close them (投票截止) with the "
            "previous release before upgrading: their votes were recorded in plaintext and cannot be "
            "moved into the sealed ballot box halfway through a vote."
        )

    # A township congress names its township (its roll is that township's deputies). Existing meetings
    # keep NULL: their rolls were fixed when they were created and stay as they are.
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_meetings_area_id'), ['area_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_meetings_area_id_areas'), 'areas', ['area_id'], ['id'],
                                    ondelete='RESTRICT')
        batch_op.create_check_constraint(batch_op.f('ck_meetings_township_area'),
                                         "area_id IS NULL OR level = 'township'")

    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('wrapped_private_key', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('ballot_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracker', sa.String(length=16), nullable=True))

    op.create_table('ballot_sealed_votes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_sealed_votes_ballot_id_ballots'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_sealed_votes')),
    sqlite_with_rowid=False,  # no rowid: SQLite stores the rows in random-id order, not voting order
    )
    with op.batch_alter_table('ballot_sealed_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_sealed_votes_ballot_id'), ['ballot_id'], unique=False)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM ballot_sealed_votes")).scalar():
        raise RuntimeError("0008_ballot_box: sealed votes exist (a ballot is open): close it before downgrading")
    with op.batch_alter_table('ballot_sealed_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_sealed_votes_ballot_id'))
    op.drop_table('ballot_sealed_votes')
    with op.batch_alter_table('ballot_receipts', schema=None) as batch_op:
        batch_op.drop_column('tracker')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_column('wrapped_private_key')
        batch_op.drop_column('public_key')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_meetings_township_area'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_meetings_area_id_areas'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_meetings_area_id'))
        batch_op.drop_column('area_id')
