"""quantum randomness pool (issue #20): quantum_sessions and quantum_random_numbers

Revision ID: 0006_quantum
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synthbot_desktop.storage.types

revision: str = '0006_quantum'
down_revision: str | None = '0001_initial'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table('quantum_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('backend', sa.String(length=100), nullable=True),
    sa.Column('shots', sa.Integer(), nullable=False),
    sa.Column('qubits', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('queue_ms', sa.Integer(), nullable=True),
    sa.Column('run_ms', sa.Integer(), nullable=True),
    sa.Column('bits', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=2000), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quantum_sessions')),
    **MYSQL
    )
    with op.batch_alter_table('quantum_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_quantum_sessions_created', ['created_at'], unique=False)

    op.create_table('quantum_random_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('backend', sa.String(length=100), nullable=True),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.Column('bits', sa.String(length=64), nullable=False),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('consumed_by', sa.String(length=64), nullable=True),
    sa.Column('consumed_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['quantum_sessions.id'],
                            name=op.f('fk_quantum_random_numbers_session_id_quantum_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quantum_random_numbers')),
    **MYSQL
    )
    with op.batch_alter_table('quantum_random_numbers', schema=None) as batch_op:
        batch_op.create_index('ix_quantum_random_numbers_pool', ['consumed_by', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quantum_random_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_quantum_random_numbers_pool')
    op.drop_table('quantum_random_numbers')
    with op.batch_alter_table('quantum_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_quantum_sessions_created')
    op.drop_table('quantum_sessions')
