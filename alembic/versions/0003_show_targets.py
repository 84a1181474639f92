"""show targets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import controlroom.db.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('targets', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))




def downgrade() -> None:

    with op.batch_alter_table('shows', schema=None) as batch_op:
        batch_op.drop_column('targets')


