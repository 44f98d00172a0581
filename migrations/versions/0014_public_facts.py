"""Public facts (issue 18): deputies sort by surname in pinyin order, and a livelihood proposal from the
public gets a receipt code to track it by.

- deputies.sort_name: the name's pinyin sort key (blueprints/registry/sortname.py, pypinyin), NOT NULL
  (server default '' only so that the column can be added in place), filled here for the rows already
  there; an index (sort_name, id) serves the lists.
- proposals.receipt_code: 8 characters from the receipt alphabet (no 0/O/1/I), unique (a unique index);
  the proposals already there get one here.

Only ADD COLUMN and CREATE INDEX: SQLite changes nothing in place that would need a table rebuild (a
rebuild of deputies would drop and re-create a table that a dozen others reference).

Revision ID: 0014_public_facts
Revises: 0012_security_auth
Create Date: 2026-12-01
"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_public_facts'
down_revision = '0012_security_auth'
branch_labels = None
depends_on = None

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade():
    from blueprints.registry.sortname import sort_key

    op.add_column('deputies', sa.Column('sort_name', sa.String(length=160), nullable=False, server_default=''))
    conn = op.get_bind()
    deputies = sa.table('deputies', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('sort_name', sa.String))
    rows = conn.execute(sa.select(deputies.c.id, deputies.c.name)).all()
    if rows:
        conn.execute(deputies.update().where(deputies.c.id == sa.bindparam('b_id'))
                     .values(sort_name=sa.bindparam('b_sort')),
                     [{'b_id': i, 'b_sort': sort_key(name)} for i, name in rows])
    op.create_index('ix_deputies_sort_name', 'deputies', ['sort_name', 'id'], unique=False)

    op.add_column('proposals', sa.Column('receipt_code', sa.String(length=8), nullable=True))
    proposals = sa.table('proposals', sa.column('id', sa.Integer), sa.column('receipt_code', sa.String))
    ids = conn.execute(sa.select(proposals.c.id)).scalars().all()
    if ids:
        codes = set()
        while len(codes) < len(ids):
            codes.add("".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8)))
        conn.execute(proposals.update().where(proposals.c.id == sa.bindparam('b_id'))
                     .values(receipt_code=sa.bindparam('b_code')),
                     [{'b_id': i, 'b_code': c} for i, c in zip(ids, sorted(codes), strict=True)])
    op.create_index('ix_proposals_receipt_code', 'proposals', ['receipt_code'], unique=True)


def downgrade():
    op.drop_index('ix_proposals_receipt_code', table_name='proposals')
    op.drop_column('proposals', 'receipt_code')
    op.drop_index('ix_deputies_sort_name', table_name='deputies')
    op.drop_column('deputies', 'sort_name')
