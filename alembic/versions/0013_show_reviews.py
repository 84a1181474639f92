"""a show's review, computed once and stored

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


def downgrade() -> None:
    op.drop_table('show_reviews')
