"""bot_turns: the decision as the action server sent it (confidence, offered entries) and the
bot message it came with

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 00:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('offered', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_bot_turns_message_id_messages'), 'messages',
                                    ['message_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_bot_turns_message_id'), ['message_id'], unique=False)
    # Earlier turns were stored right after their bot messages: link each to the last bot
    # message of its conversation stored before it (the one its decision was read from).
    op.execute(sa.text(
        "UPDATE bot_turns SET message_id = (SELECT MAX(m.id) FROM messages m"
        " WHERE m.conversation_id = bot_turns.conversation_id AND m.sender = 'bot'"
        " AND m.created_at <= bot_turns.created_at)"))


def downgrade() -> None:
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bot_turns_message_id'))
        batch_op.drop_constraint(batch_op.f('fk_bot_turns_message_id_messages'), type_='foreignkey')
        batch_op.drop_column('offered')
        batch_op.drop_column('confidence')
        batch_op.drop_column('message_id')
