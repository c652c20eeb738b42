"""conversations: CSAT ratings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 04:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('csat_ratings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.String(length=128), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_csat_ratings_conversation_id_conversations')),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_csat_ratings_handoff_id_handoffs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_ratings')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_csat_ratings_conversation_id'))
    )
    with op.batch_alter_table('csat_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csat_ratings_handoff_id'), ['handoff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('csat_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csat_ratings_handoff_id'))
    op.drop_table('csat_ratings')
