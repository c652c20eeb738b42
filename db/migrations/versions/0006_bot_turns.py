"""reports: the bot's decision per turn; conversations indexed by start time

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bot_turns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_bot_turns_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_turns'))
    )
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_turns_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_turns_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_created_at')
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_turns_created_at'))
        batch_op.drop_index(batch_op.f('ix_bot_turns_conversation_id'))
    op.drop_table('bot_turns')
