"""moderation lexicon

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lexicon_allow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lexicon_allow')),
    sa.UniqueConstraint('text', name=op.f('uq_lexicon_allow_text'))
    )
    op.create_table('lexicon_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lexicon_categories')),
    sa.UniqueConstraint('key', name=op.f('uq_lexicon_categories_key'))
    )
    op.create_table('lexicon_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('suggestion', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['lexicon_categories.id'], name=op.f('fk_lexicon_terms_category_id_lexicon_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lexicon_terms')),
    sa.UniqueConstraint('category_id', 'text', name=op.f('uq_lexicon_terms_category_id'))
    )
    with op.batch_alter_table('lexicon_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lexicon_terms_category_id'), ['category_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lexicon_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lexicon_terms_category_id'))

    op.drop_table('lexicon_terms')
    op.drop_table('lexicon_categories')
    op.drop_table('lexicon_allow')
