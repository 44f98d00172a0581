"""Spine: accounts, administrative areas, append-only audit log, registry of deputies,
groups, stations and handling units.

Revision ID: 0001_spine
Revises:
Create Date: 2026-11-23

Times are stored as naive UTC (``UTCDateTime`` in the models is a ``DateTime``).
The audit log is append-only: triggers refuse UPDATE and DELETE on both databases.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001_spine'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('county', 'township', 'village')", name=op.f('ck_areas_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], name=op.f('fk_areas_parent_id_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_areas_code')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_areas_parent_id_name'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_parent_id'), ['parent_id'], unique=False)

    op.create_table('handling_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('contact_name', sa.String(length=32), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handling_units')),
    sa.UniqueConstraint('name', name=op.f('uq_handling_units_name'))
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_address_at', ['address', 'at'], unique=False)

    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=128), nullable=True),
    sa.Column('opening_hours', sa.String(length=128), nullable=True),
    sa.Column('contact_name', sa.String(length=32), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('home', 'room', 'station', 'point')", name=op.f('ck_stations_kind')),
    sa.CheckConstraint('latitude IS NULL OR (latitude >= -90 AND latitude <= 90)', name=op.f('ck_stations_latitude')),
    sa.CheckConstraint('longitude IS NULL OR (longitude >= -180 AND longitude <= 180)', name=op.f('ck_stations_longitude')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_stations_area_id_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('name', name=op.f('uq_stations_name'))
    )
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stations_area_id'), ['area_id'], unique=False)

    op.create_table('deputies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('gender', sa.String(length=2), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('term', sa.String(length=32), nullable=True),
    sa.Column('constituency', sa.String(length=64), nullable=True),
    sa.Column('occupation', sa.String(length=128), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.Column('end_note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("gender IS NULL OR gender IN ('男', '女')", name=op.f('ck_deputies_gender')),
    sa.CheckConstraint("level IN ('national', 'provincial', 'city', 'county', 'township')", name=op.f('ck_deputies_level')),
    sa.CheckConstraint('(ended_on IS NULL AND end_reason IS NULL) OR (ended_on IS NOT NULL AND end_reason IS NOT NULL)', name=op.f('ck_deputies_ended_has_reason')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_deputies_area_id_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_deputies_station_id_stations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deputies')),
    sa.UniqueConstraint('code', name=op.f('uq_deputies_code')),
    sa.UniqueConstraint('name', 'phone', name=op.f('uq_deputies_name_phone'))
    )
    with op.batch_alter_table('deputies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deputies_area_id'), ['area_id'], unique=False)
        batch_op.create_index('ix_deputies_level_name', ['level', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_deputies_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_deputies_station_id'), ['station_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role <> 'deputy' OR deputy_id IS NOT NULL", name=op.f('ck_users_deputy_linked')),
    sa.CheckConstraint("role IN ('deputy', 'liaison', 'unit', 'clerk', 'staff', 'admin')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_users_deputy_id_deputies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_users_station_id_stations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], name=op.f('fk_users_unit_id_handling_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('deputy_id', name=op.f('uq_users_deputy_id')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=255), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id'], unique=False)

    op.create_table('deputy_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('speciality', sa.String(length=32), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('liaison_user_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('regional', 'professional')", name=op.f('ck_deputy_groups_kind')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_deputy_groups_area_id_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['liaison_user_id'], ['users.id'], name=op.f('fk_deputy_groups_liaison_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deputy_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_deputy_groups_name'))
    )
    with op.batch_alter_table('deputy_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deputy_groups_area_id'), ['area_id'], unique=False)

    op.create_table('group_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.CheckConstraint("role IN ('member', 'leader', 'vice_leader')", name=op.f('ck_group_memberships_role')),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_group_memberships_deputy_id_deputies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['deputy_groups.id'], name=op.f('fk_group_memberships_group_id_deputy_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_memberships')),
    sa.UniqueConstraint('group_id', 'deputy_id', name=op.f('uq_group_memberships_group_id_deputy_id'))
    )
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_memberships_deputy_id'), ['deputy_id'], unique=False)
        batch_op.create_index('uq_group_memberships_one_leader', ['group_id'], unique=True, sqlite_where=sa.text("role = 'leader'"), postgresql_where=sa.text("role = 'leader'"))

    _create_audit_triggers()


AUDIT_GUARD_SQLITE = """
CREATE TRIGGER audit_entries_no_{op} BEFORE {OP} ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END
"""
AUDIT_GUARD_PG_FUNCTION = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$
"""


def _create_audit_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_GUARD_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        for statement in ("update", "delete"):
            op.execute(AUDIT_GUARD_SQLITE.format(op=statement, OP=statement.upper()))


def _drop_audit_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def downgrade():
    _drop_audit_triggers()
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.drop_index('uq_group_memberships_one_leader', sqlite_where=sa.text("role = 'leader'"), postgresql_where=sa.text("role = 'leader'"))
        batch_op.drop_index(batch_op.f('ix_group_memberships_deputy_id'))

    op.drop_table('group_memberships')
    with op.batch_alter_table('deputy_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputy_groups_area_id'))

    op.drop_table('deputy_groups')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index('ix_audit_entries_at')
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))

    op.drop_table('audit_entries')
    op.drop_table('users')
    with op.batch_alter_table('deputies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputies_station_id'))
        batch_op.drop_index(batch_op.f('ix_deputies_name'))
        batch_op.drop_index('ix_deputies_level_name')
        batch_op.drop_index(batch_op.f('ix_deputies_area_id'))

    op.drop_table('deputies')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stations_area_id'))

    op.drop_table('stations')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_address_at')

    op.drop_table('login_attempts')
    op.drop_table('handling_units')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_id'))

    op.drop_table('areas')
