"""memory facts per user (issue #16): memory_facts

Revision ID: 0003_memory
Revises: 0005_admin (written against 0001_initial; chained after main's current head so the chain stays single)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synthbot_desktop.storage.types

revision: str = '0003_memory'
down_revision: str | None = '0005_admin'  # written against 0001_initial; main's head at merge time
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table('memory_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.String(length=1000), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memory_facts_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memory_facts')),
    **MYSQL
    )
    with op.batch_alter_table('memory_facts', schema=None) as batch_op:
        batch_op.create_index('ix_memory_facts_user', ['user_id', 'id'], unique=False)


def downgrade() -> None:
    # Dropping the table drops its index; MariaDB refuses to drop an index a foreign key needs first.
    op.drop_table('memory_facts')
