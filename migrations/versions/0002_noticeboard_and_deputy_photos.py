"""Noticeboard (notices, their earlier versions, attachments) and deputies' public photos.

Revision ID: 0002_noticeboard
Revises: 0001_spine
Create Date: 2026-11-23

Files are stored in the database (LargeBinary) so that no worker keeps local state.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002_noticeboard'
down_revision = '0001_spine'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deputy_photos',
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_deputy_photos_deputy_id_deputies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('deputy_id', name=op.f('pk_deputy_photos'))
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('publish_at', sa.DateTime(), nullable=True),
    sa.Column('take_down_at', sa.DateTime(), nullable=True),
    sa.Column('revised_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('source_ref', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(scope = 'county' AND area_id IS NULL AND station_id IS NULL) OR (scope = 'township' AND area_id IS NOT NULL AND station_id IS NULL) OR (scope = 'station' AND station_id IS NOT NULL)", name=op.f('ck_notices_scope')),
    sa.CheckConstraint("category IN ('notice', 'deputy_info', 'group_plan', 'reception', 'duty_record', 'suggestion_result', 'ballot_result', 'project_progress', 'rules')", name=op.f('ck_notices_category')),
    sa.CheckConstraint('take_down_at IS NULL OR publish_at IS NULL OR take_down_at > publish_at', name=op.f('ck_notices_window')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_notices_version')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_notices_area_id_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_notices_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_notices_station_id_stations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('source', 'source_ref', name=op.f('uq_notices_source_source_ref'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_area_id'), ['area_id'], unique=False)
        batch_op.create_index('ix_notices_category_publish_at', ['category', 'publish_at', 'id'], unique=False)
        # The public list's order (pinned first, newest first): read in index order, no sort.
        batch_op.create_index('ix_notices_listing', ['pinned', 'publish_at', 'id', 'title'], unique=False)
        batch_op.create_index('ix_notices_public', ['publish_at', 'take_down_at', 'title'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_station_id'), ['station_id'], unique=False)
        # The next take-down time, for the public page cache's expiry.
        batch_op.create_index(batch_op.f('ix_notices_take_down_at'), ['take_down_at'], unique=False)

    op.create_table('notice_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_attachments_notice_id_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_attachments'))
    )
    with op.batch_alter_table('notice_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_attachments_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_versions_notice_id_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['users.id'], name=op.f('fk_notice_versions_replaced_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_versions')),
    sa.UniqueConstraint('notice_id', 'version', name=op.f('uq_notice_versions_notice_id_version'))
    )


    # The public page cache's counter (blueprints/core/pagecache.py): one row, bumped by every
    # transaction that changes what public pages show.
    content_versions = op.create_table('content_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_content_versions'))
    )
    op.bulk_insert(content_versions, [{'name': 'public', 'version': 0}])


def downgrade():
    op.drop_table('content_versions')
    op.drop_table('notice_versions')
    with op.batch_alter_table('notice_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_attachments_notice_id'))

    op.drop_table('notice_attachments')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_take_down_at'))
        batch_op.drop_index(batch_op.f('ix_notices_station_id'))
        batch_op.drop_index('ix_notices_public')
        batch_op.drop_index('ix_notices_listing')
        batch_op.drop_index('ix_notices_category_publish_at')
        batch_op.drop_index(batch_op.f('ix_notices_area_id'))

    op.drop_table('notices')
    op.drop_table('deputy_photos')
