"""a show's products, a segment's online target, whole-word lexicon terms

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('products', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online_target', sa.Integer(), nullable=True))
    with op.batch_alter_table('lexicon_terms', schema=None) as batch_op:
        # NULL: the default (digit-only terms whole-word, others anywhere).
        batch_op.add_column(sa.Column('whole_word', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lexicon_terms', schema=None) as batch_op:
        batch_op.drop_column('whole_word')
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.drop_column('online_target')
    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.drop_column('products')
