"""replicas: index for the unanswered-message sweep (idle conversations by state)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 06:00:00.000000
"""
from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_state_updated', ['state', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_state_updated')
