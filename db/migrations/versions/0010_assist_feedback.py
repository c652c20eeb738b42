"""Agent-assist feedback: suggestion events and label corrections

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 03:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table(
        'suggestion_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('handoff_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=32), nullable=False),
        sa.Column('agent', sa.String(length=128), nullable=False),
        sa.Column('impression_id', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=64), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('edit_distance', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_suggestion_events_handoff_id_handoffs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_events')),
    )
    for column in ('handoff_id', 'conversation_id', 'agent', 'impression_id', 'item_id', 'action', 'created_at'):
        op.create_index(op.f(f'ix_suggestion_events_{column}'), 'suggestion_events', [column], unique=False)
    op.create_table(
        'label_corrections',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('handoff_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=16), nullable=False),
        sa.Column('old_value', sa.String(length=32), nullable=True),
        sa.Column('new_value', sa.String(length=32), nullable=False),
        sa.Column('agent', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_label_corrections_handoff_id_handoffs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_label_corrections')),
    )
    for column in ('handoff_id', 'created_at'):
        op.create_index(op.f(f'ix_label_corrections_{column}'), 'label_corrections', [column], unique=False)

def downgrade() -> None:
    op.drop_table('label_corrections')
    op.drop_table('suggestion_events')
