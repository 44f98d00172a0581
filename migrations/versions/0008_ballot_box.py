"""The ballot box: sealed votes while a ballot is open, the ballot's key pair, trackers on receipts;
a township congress's township (meetings.area_id); paper counts as (entry, choice, count) rows.

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

# The methods as this migration knows them (frozen here: later methods bring their own migration).
POSITIONAL = {'approve': ('yes', 'no', 'abstain'), 'rating': ('satisfied', 'basic', 'unsatisfied')}
CHOICES = "('yes', 'no', 'abstain', 'satisfied', 'basic', 'unsatisfied')"


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

    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds meetings and ballot_paper_counts to add or drop constraints (batch mode). With
        # foreign keys on, dropping the old table would run an implicit DELETE: RESTRICT children refuse
        # it, and CASCADE children (the meeting's roll) would be emptied. SQLite's own recipe for
        # schema changes: foreign keys off around them (a pragma that only works between
        # transactions), then foreign_key_check before carrying on.
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
        bind.exec_driver_sql("BEGIN IMMEDIATE")

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

    # Paper counts: one (entry, choice, count) row per choice instead of the three positional columns.
    # count_a/b/c were the method's choices in order: approve yes/no/abstain, rating
    # satisfied/basic/unsatisfied. Every existing entry keeps its three numbers under their names.
    op.create_table('ballot_paper_count_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('count_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_ballot_paper_count_values_non_negative')),
    sa.CheckConstraint(f"choice IN {CHOICES}", name=op.f('ck_ballot_paper_count_values_choice')),
    sa.ForeignKeyConstraint(['count_id'], ['ballot_paper_counts.id'], name=op.f('fk_ballot_paper_count_values_count_id_ballot_paper_counts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_paper_count_values')),
    sa.UniqueConstraint('count_id', 'choice', name=op.f('uq_ballot_paper_count_values_count_id_choice'))
    )
    with op.batch_alter_table('ballot_paper_count_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_paper_count_values_count_id'), ['count_id'], unique=False)
    for method, choices in POSITIONAL.items():
        for column, choice in zip(('count_a', 'count_b', 'count_c'), choices, strict=True):
            bind.execute(sa.text(
                f"INSERT INTO ballot_paper_count_values (count_id, choice, count)"  # noqa: S608 (fixed names)
                f" SELECT p.id, :choice, p.{column} FROM ballot_paper_counts p JOIN ballots b ON b.id = p.ballot_id"
                f" WHERE b.method = :method ORDER BY p.id"), {"choice": choice, "method": method})
    with op.batch_alter_table('ballot_paper_counts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_ballot_paper_counts_non_negative'), type_='check')
        batch_op.drop_column('count_c')
        batch_op.drop_column('count_b')
        batch_op.drop_column('count_a')

    if sqlite:
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"0008_ballot_box: foreign keys broken by the rebuild: {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM ballot_sealed_votes")).scalar():
        raise RuntimeError("0008_ballot_box: sealed votes exist (a ballot is open): close it before downgrading")
    with op.batch_alter_table('ballot_paper_counts', schema=None) as batch_op:
        for column in ('count_a', 'count_b', 'count_c'):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default='0'))
    for method, choices in POSITIONAL.items():
        for column, choice in zip(('count_a', 'count_b', 'count_c'), choices, strict=True):
            bind.execute(sa.text(
                f"UPDATE ballot_paper_counts SET {column} = (SELECT v.count FROM ballot_paper_count_values v"  # noqa: S608
                f" WHERE v.count_id = ballot_paper_counts.id AND v.choice = :choice)"
                f" WHERE ballot_id IN (SELECT id FROM ballots WHERE method = :method)"),
                {"choice": choice, "method": method})
    with op.batch_alter_table('ballot_paper_counts', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_ballot_paper_counts_non_negative'),
                                         "count_a >= 0 AND count_b >= 0 AND count_c >= 0")
    with op.batch_alter_table('ballot_paper_count_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_paper_count_values_count_id'))
    op.drop_table('ballot_paper_count_values')
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
