"""Notifications (消息通知): inbox, outbox of e-mails and SMS, delivery attempts, contacts, preferences,
reminders already queued, and 催办 (chases).

Only new tables: users' e-mail and mobile live in notification_contacts (one row per user, deleted
with the user), so the users table is not altered. Times are naive UTC like everywhere else.

Revision ID: 0010_notifications
Revises: 0009_accounts_and_passes
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_notifications'
down_revision = '0009_accounts_and_passes'
branch_labels = None
depends_on = None


def upgrade():
    # The in-app inbox: written in the transaction of the change it reports; read_at NULL = unread.
    op.create_table('inbox_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('about_type', sa.String(length=32), nullable=True),
    sa.Column('about_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_items_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_items'))
    )
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_items_user_id_read_at', ['user_id', 'read_at'], unique=False)

    # A user's e-mail and mobile (a deputy without one is reached at the roster's phone).
    op.create_table('notification_contacts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('email_digest', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_contacts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_contacts'))
    )
    # The outbox: queued -> sending (claimed, with a lease) -> sent | failed; digested = folded into
    # the user's daily e-mail digest (digest_id). One digest per user and local day (the UNIQUE).
    op.create_table('notification_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('about_type', sa.String(length=32), nullable=True),
    sa.Column('about_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('digest_pending', sa.Boolean(), nullable=False),
    sa.Column('digest_date', sa.Date(), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_notification_messages_channel')),
    sa.CheckConstraint("status <> 'sending' OR lease_until IS NOT NULL", name=op.f('ck_notification_messages_sending_leased')),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'digested')", name=op.f('ck_notification_messages_status')),
    sa.ForeignKeyConstraint(['digest_id'], ['notification_messages.id'], name=op.f('fk_notification_messages_digest_id_notification_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_messages_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_messages')),
    sa.UniqueConstraint('user_id', 'digest_date', name=op.f('uq_notification_messages_user_id_digest_date'))
    )
    with op.batch_alter_table('notification_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_messages_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index('ix_notification_messages_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_messages_user_id'), ['user_id'], unique=False)

    # Channel choices per kind of message: user_id NULL is the staff's default for everyone (the
    # partial unique index: NULLs are distinct in the UNIQUE).
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.CheckConstraint("channel IN ('inbox', 'email', 'sms')", name=op.f('ck_notification_preferences_channel')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'kind', 'channel', name=op.f('uq_notification_preferences_user_id_kind_channel'))
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index('uq_notification_preferences_default', ['kind', 'channel'], unique=True, sqlite_where=sa.text('user_id IS NULL'), postgresql_where=sa.text('user_id IS NULL'))

    # Every delivery attempt, its outcome and a detail scrubbed of addresses and numbers.
    op.create_table('notification_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('worker', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.CheckConstraint("outcome IN ('sent', 'error')", name=op.f('ck_notification_attempts_outcome')),
    sa.ForeignKeyConstraint(['message_id'], ['notification_messages.id'], name=op.f('fk_notification_attempts_message_id_notification_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_attempts'))
    )
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_attempts_message_id'), ['message_id'], unique=False)

    # Scheduled reminders already queued: `notify remind` is idempotent (the UNIQUE decides).
    op.create_table('notification_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('about_type', sa.String(length=32), nullable=False),
    sa.Column('about_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_reminders')),
    sa.UniqueConstraint('about_type', 'about_id', 'key', name=op.f('uq_notification_reminders_about_type_about_id_key'))
    )
    # 催办: who pressed which unit about which case, weighted (deputy 1, 代表工委 2, leadership 4).
    op.create_table('notification_chases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=12), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("sender IN ('deputy', 'staff', 'leadership')", name=op.f('ck_notification_chases_sender')),
    sa.CheckConstraint('weight IN (1, 2, 4)', name=op.f('ck_notification_chases_weight')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_notification_chases_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notification_chases_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_notification_chases_unit_id_handling_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_chases'))
    )
    with op.batch_alter_table('notification_chases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_chases_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_chases_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification_chases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_chases_unit_id'))
        batch_op.drop_index(batch_op.f('ix_notification_chases_case_id'))

    op.drop_table('notification_chases')
    op.drop_table('notification_reminders')
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_attempts_message_id'))

    op.drop_table('notification_attempts')
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.drop_index('uq_notification_preferences_default', sqlite_where=sa.text('user_id IS NULL'), postgresql_where=sa.text('user_id IS NULL'))

    op.drop_table('notification_preferences')
    with op.batch_alter_table('notification_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_messages_user_id'))
        batch_op.drop_index('ix_notification_messages_status_due_at')
        batch_op.drop_index(batch_op.f('ix_notification_messages_digest_id'))

    op.drop_table('notification_messages')
    op.drop_table('notification_contacts')
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_items_user_id_read_at')

    op.drop_table('inbox_items')
