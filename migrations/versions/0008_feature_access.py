"""feature flags used for real (issue #18): user_feature_access, and whose error an error_logs row is

``feature_flags`` itself exists since 0001_initial; this adds the per-user overrides and
``error_logs.user_id`` (so `admin errors --user NAME` can answer).

Revision ID: 0008_feature_access
Revises: 0003_memory (the lead re-chains it at merge)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synthbot_desktop.storage.types

revision: str = '0008_feature_access'
down_revision: str | None = '0003_memory'  # main's head when written; re-chained at merge
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    op.create_table('user_feature_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['feature_flags.id'], name=op.f('fk_user_feature_access_flag_id_feature_flags'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_feature_access_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_feature_access')),
    sa.UniqueConstraint('user_id', 'flag_id', name=op.f('uq_user_feature_access_user_id_flag_id')),
    **MYSQL
    )
    with op.batch_alter_table('error_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_error_logs_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_error_logs_user_id_users'), 'users', ['user_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    # MariaDB refuses to drop an index a foreign key still needs (error 1553): the FK goes first.
    with op.batch_alter_table('error_logs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_error_logs_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_error_logs_user_id'))
        batch_op.drop_column('user_id')
    op.drop_table('user_feature_access')
