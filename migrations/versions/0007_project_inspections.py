"""Deputies' inspections linked to livelihood projects (代表视察民生实事项目).

Revision ID: 0007_project_inspections
Revises: 0006_suggestions
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_project_inspections'
down_revision = '0006_suggestions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('livelihood_project_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['duty_activities.id'], name=op.f('fk_livelihood_project_inspections_activity_id_duty_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_livelihood_project_inspections_linked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['livelihood_projects.id'], name=op.f('fk_livelihood_project_inspections_project_id_livelihood_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_livelihood_project_inspections')),
    sa.UniqueConstraint('project_id', 'activity_id', name=op.f('uq_livelihood_project_inspections_project_id_activity_id'))
    )
    with op.batch_alter_table('livelihood_project_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_livelihood_project_inspections_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_livelihood_project_inspections_project_id'), ['project_id'], unique=False)


def downgrade():
    with op.batch_alter_table('livelihood_project_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_livelihood_project_inspections_project_id'))
        batch_op.drop_index(batch_op.f('ix_livelihood_project_inspections_activity_id'))
    op.drop_table('livelihood_project_inspections')
