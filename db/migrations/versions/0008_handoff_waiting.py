"""handoffs: what a waiting customer was told (holding replies, soothing, left a message)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 00:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_ack_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('soothed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('message_left_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('message_left_at')
        batch_op.drop_column('soothed_at')
        batch_op.drop_column('last_ack_at')
