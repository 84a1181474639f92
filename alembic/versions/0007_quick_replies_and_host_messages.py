"""quick replies and host messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quick_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_replies'))
    )
    with op.batch_alter_table('quick_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quick_replies_group'), ['group'], unique=False)

    op.create_table('host_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('show_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('sent_by', sa.String(length=64), nullable=False),
    sa.Column('sent_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acked_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_host_messages_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['show_id'], ['shows.id'], name=op.f('fk_host_messages_show_id_shows'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_messages'))
    )
    with op.batch_alter_table('host_messages', schema=None) as batch_op:
        batch_op.create_index('ix_host_messages_room_sent', ['room_id', 'sent_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('host_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_host_messages_room_sent')

    op.drop_table('host_messages')
    with op.batch_alter_table('quick_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quick_replies_group'))

    op.drop_table('quick_replies')
