"""platform bindings

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platform_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('secret', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_platform_bindings_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_bindings')),
    sa.UniqueConstraint('platform', 'external_id', name=op.f('uq_platform_bindings_platform'))
    )
    with op.batch_alter_table('platform_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_bindings_room_id'), ['room_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('platform_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_bindings_room_id'))

    op.drop_table('platform_bindings')
