"""Accounts for everyone at once: a password's state on each account, and short codes for handling
units and stations (their accounts' usernames).

Revision ID: 0009_accounts_and_passes
Revises: 0008_ballot_box
Create Date: 2026-12-01

- ``users.password_state``: ``chosen`` (the user chose it: every existing account), ``one_time`` (an
  initial password from a slip or an admin reset, not yet used) or ``one_time_used`` (signed in with it
  once: the next page is choosing a new password, and that password cannot sign in again).
- ``handling_units.code`` and ``stations.code``: an optional short code, unique, used as the username of
  the unit's or the station liaison's account.

- ``meeting_passes``: a deputy's personal pass for one meeting (扫码签到): only the SHA-256 of its code
  and of the phone's cookie that first used it are stored.

Nothing here depends on the other round-2 migrations.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_accounts_and_passes'
down_revision = '0008_ballot_box'
branch_labels = None
depends_on = None


CHECK_STATE = "password_state IN ('chosen', 'one_time', 'one_time_used')"


def upgrade():
    # Plain ALTER TABLE ... ADD COLUMN on both databases: on SQLite a batch (copy and drop) of users or
    # stations is refused by the foreign keys of every row that refers to them, and is not needed.
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes the CHECK with the column (it cannot add a table constraint later).
        op.execute("ALTER TABLE users ADD COLUMN password_state VARCHAR(16) DEFAULT 'chosen' NOT NULL "
                   f"CONSTRAINT ck_users_password_state CHECK ({CHECK_STATE})")
    else:
        op.add_column('users', sa.Column('password_state', sa.String(length=16), server_default='chosen',
                                         nullable=False))
        op.create_check_constraint(op.f('ck_users_password_state'), 'users', CHECK_STATE)
    # A unique index (not a table constraint, which SQLite could only add by copying the table).
    op.add_column('handling_units', sa.Column('code', sa.String(length=32), nullable=True))
    op.create_index('uq_handling_units_code', 'handling_units', ['code'], unique=True)
    op.add_column('stations', sa.Column('code', sa.String(length=32), nullable=True))
    op.create_index('uq_stations_code', 'stations', ['code'], unique=True)
    op.create_table('meeting_passes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_meeting_passes_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_passes_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_passes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_meeting_passes_code_hash')),
    sa.UniqueConstraint('meeting_id', 'deputy_id', name=op.f('uq_meeting_passes_meeting_id_deputy_id'))
    )
    op.create_index(op.f('ix_meeting_passes_deputy_id'), 'meeting_passes', ['deputy_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_meeting_passes_deputy_id'), table_name='meeting_passes')
    op.drop_table('meeting_passes')
    op.drop_index('uq_stations_code', table_name='stations')
    op.drop_column('stations', 'code')
    op.drop_index('uq_handling_units_code', table_name='handling_units')
    op.drop_column('handling_units', 'code')
    # SQLite cannot drop a column its CHECK names: the batch copies the table (fine while no row refers
    # to a user, as in a test database; a real downgrade of a used SQLite file is a restore from backup).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_password_state'), type_='check')
        batch_op.drop_column('password_state')
