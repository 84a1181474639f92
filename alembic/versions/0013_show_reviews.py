"""a show's review, computed once and stored; the review meeting's problems and action items

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

import controlroom.db.base


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'show_reviews',
        sa.Column('show_id', sa.Integer(), nullable=False),
        sa.Column('computed_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('headline', sa.JSON(), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['show_id'], ['shows.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('show_id'),
    )
    op.create_table(
        'review_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('room_id', sa.Integer(), nullable=False),
        sa.Column('show_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('segment_index', sa.Integer(), nullable=True),
        sa.Column('segment_title', sa.String(length=200), nullable=False),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('done_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['show_id'], ['shows.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_index('ix_review_items_room_done', ['room_id', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_items_show_id'), ['show_id'], unique=False)


def downgrade() -> None:
    op.drop_table('review_items')
    op.drop_table('show_reviews')
