"""run of show

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cue_firings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('show_id', sa.Integer(), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=False),
    sa.Column('segment_title', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('planned_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fired_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['show_id'], ['shows.id'], name=op.f('fk_cue_firings_show_id_shows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cue_firings'))
    )
    with op.batch_alter_table('cue_firings', schema=None) as batch_op:
        batch_op.create_index('ix_cue_firings_show', ['show_id', 'fired_at'], unique=False)

    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('show_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('planned_s', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('talk_points', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('starts_at_s', sa.Integer(), nullable=True),
    sa.Column('cues', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['show_id'], ['shows.id'], name=op.f('fk_segments_show_id_shows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments'))
    )
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.create_index('ix_segments_show_position', ['show_id', 'position'], unique=False)

    with op.batch_alter_table('host_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_total_s', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('run', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('run')
        batch_op.drop_column('planned_total_s')

    with op.batch_alter_table('host_messages', schema=None) as batch_op:
        batch_op.drop_column('urgent')

    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.drop_index('ix_segments_show_position')

    op.drop_table('segments')
    with op.batch_alter_table('cue_firings', schema=None) as batch_op:
        batch_op.drop_index('ix_cue_firings_show')

    op.drop_table('cue_firings')
