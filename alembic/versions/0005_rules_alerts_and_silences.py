"""rules, alerts and silences

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', controlroom.db.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules')),
    sa.UniqueConstraint('key', name=op.f('uq_rules_key'))
    )
    op.create_table('silences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('rule_key', sa.String(length=64), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('starts_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_silences_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_silences'))
    )
    with op.batch_alter_table('silences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_silences_room_id'), ['room_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('show_id', sa.Integer(), nullable=True),
    sa.Column('rule_key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=300), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('advice', sa.String(length=500), nullable=False),
    sa.Column('playbook', sa.String(length=64), nullable=True),
    sa.Column('cue', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fired_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_by', sa.String(length=64), nullable=False),
    sa.Column('resolved_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=False),
    sa.Column('clear_since', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_notified_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('loud_since', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', controlroom.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('muted_reason', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('reference', sa.Float(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_alerts_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['show_id'], ['shows.id'], name=op.f('fk_alerts_show_id_shows'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index('ix_alerts_room_state', ['room_id', 'state'], unique=False)

    op.create_table('alert_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('at', controlroom.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_transitions_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_transitions'))
    )
    with op.batch_alter_table('alert_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_transitions_alert_id'), ['alert_id'], unique=False)

    with op.batch_alter_table('room_minutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('viewers_distinct', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('interacting_distinct', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payers_distinct', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('room_minutes', schema=None) as batch_op:
        batch_op.drop_column('payers_distinct')
        batch_op.drop_column('interacting_distinct')
        batch_op.drop_column('viewers_distinct')

    with op.batch_alter_table('alert_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_transitions_alert_id'))

    op.drop_table('alert_transitions')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_room_state')
        batch_op.drop_index(batch_op.f('ix_alerts_fingerprint'))

    op.drop_table('alerts')
    with op.batch_alter_table('silences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_silences_room_id'))

    op.drop_table('silences')
    op.drop_table('rules')
