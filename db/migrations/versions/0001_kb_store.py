"""kb store: entries, versions, audit log, state

Revision ID: 0001
Revises:
Create Date: 2026-11-24 00:43:20.883651
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('kb_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('similar_questions', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=True),
    sa.Column('review_due', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_entries'))
    )
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_entries_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_entries_status'), ['status'], unique=False)

    kb_state = op.create_table('kb_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_kb_state'))
    )
    # Seeded so revision bumps are a plain UPDATE, safe under concurrent writers.
    op.bulk_insert(kb_state, [{'key': 'revision', 'value': 0}])
    op.create_table('kb_entry_versions',
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['kb_entries.id'],
                            name=op.f('fk_kb_entry_versions_entry_id_kb_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'version', name=op.f('pk_kb_entry_versions'))
    )


def downgrade() -> None:
    op.drop_table('kb_entry_versions')
    op.drop_table('kb_state')
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_entries_status'))
        batch_op.drop_index(batch_op.f('ix_kb_entries_category'))

    op.drop_table('kb_entries')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
