"""Security (issue 17, part B): rate-limit counters shared by every worker, sign-in throttling per
(account, address), and the security event log.

- rate_counters: Flask-Limiter's fixed-window counters (core/ratelimit.py), so that a limit holds
  across gunicorn workers and restarts without Redis;
- login_throttles: attempts per (account, address), counted before the password is checked;
- user_sessions: each signed-in browser, so that its owner can see and end it;
- user_totp: a TOTP second factor per account (secret, confirmed, last used step, recovery codes);
- security_events: sign-in, sign-out, password changes, 403, CSRF failures and 429, kept like the
  audit log (nothing prunes it).

Only new tables. Times are naive UTC like everywhere else.

Revision ID: 0012_security_auth
Revises: 0011_security_records
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_security_auth'
down_revision = '0011_security_records'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_counters'))
    )
    with op.batch_alter_table('rate_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counters_expires_at'), ['expires_at'], unique=False)

    op.create_table('login_throttles',
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('wait_until', sa.DateTime(), nullable=True),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'address', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttles_last_at'), ['last_at'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_user_sessions_sid_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('user_totp',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.Column('recovery_hashes', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_totp_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_totp'))
    )

    op.create_table('security_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('login', sa.String(length=64), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('login_ok', 'login_failed', 'login_throttled', 'logout', 'password_changed', "
                       "'forbidden', 'csrf_failed', 'rate_limited')", name=op.f('ck_security_events_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_security_events_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events'))
    )
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.create_index('ix_security_events_at', ['at'], unique=False)
        batch_op.create_index('ix_security_events_kind_at', ['kind', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_events_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('security_events')
    op.drop_table('user_totp')
    op.drop_table('user_sessions')
    op.drop_table('login_throttles')
    op.drop_table('rate_counters')
