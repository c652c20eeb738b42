"""wechat channel: inbound dedup, nonces, outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 03:05:59.354043
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wechat_inbound',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('msg_type', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('delivery', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_wechat_inbound'))
    )
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_inbound_created_at'), ['created_at'], unique=False)

    op.create_table('wechat_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('timestamp', sa.Integer(), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_wechat_nonces'))
    )
    with op.batch_alter_table('wechat_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_nonces_seen_at'), ['seen_at'], unique=False)

    op.create_table('wechat_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_outbox'))
    )
    with op.batch_alter_table('wechat_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_outbox_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wechat_outbox_openid'), ['openid'], unique=False)
        batch_op.create_index('ix_wechat_outbox_status', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wechat_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_outbox_status')
        batch_op.drop_index(batch_op.f('ix_wechat_outbox_openid'))
        batch_op.drop_index(batch_op.f('ix_wechat_outbox_conversation_id'))

    op.drop_table('wechat_outbox')
    with op.batch_alter_table('wechat_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_nonces_seen_at'))

    op.drop_table('wechat_nonces')
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_inbound_created_at'))

    op.drop_table('wechat_inbound')
