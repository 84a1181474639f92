"""per-minute room numbers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('room_minutes',
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('minute_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('online', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('likes', sa.BigInteger(), nullable=False),
    sa.Column('gmv_cents', sa.BigInteger(), nullable=False),
    sa.Column('enters', sa.Integer(), nullable=False),
    sa.Column('orders_paid', sa.Integer(), nullable=False),
    sa.Column('follows', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_minutes_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'minute_at', name=op.f('pk_room_minutes'))
    )



def downgrade() -> None:

    op.drop_table('room_minutes')

