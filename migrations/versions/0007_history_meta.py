"""history metadata (issue #17): session source + note, message source id, session_tags, message_ratings

Revision ID: 0007_history_meta
Revises: 0003_memory

Columns are added with plain ADD COLUMN and the uniqueness with unique indexes (not a table
rebuild): on SQLite a batch rebuild of conversation_messages would drop its FTS5 triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synthbot_desktop.storage.types

revision: str = '0007_history_meta'
down_revision: str | None = '0008_feature_access'  # chained after #18's flags at merge
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}
LONGTEXT = sa.Text().with_variant(sa.dialects.mysql.LONGTEXT(), "mysql").with_variant(
    sa.dialects.mysql.LONGTEXT(), "mariadb")


def upgrade() -> None:
    op.add_column('conversation_sessions', sa.Column('source', sa.String(length=20), nullable=True))
    op.add_column('conversation_sessions', sa.Column('source_id', sa.String(length=100), nullable=True))
    op.add_column('conversation_sessions', sa.Column('note', LONGTEXT, nullable=True))
    op.create_index('ix_conversation_sessions_source', 'conversation_sessions',
                    ['user_id', 'source', 'source_id'], unique=True)
    op.add_column('conversation_messages', sa.Column('source_id', sa.String(length=100), nullable=True))
    op.create_index('ix_conversation_messages_source', 'conversation_messages',
                    ['session_id', 'source_id'], unique=True)
    op.create_table('session_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['conversation_sessions.id'],
                            name=op.f('fk_session_tags_session_id_conversation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_tags')),
    sa.UniqueConstraint('session_id', 'tag', name=op.f('uq_session_tags_session_id_tag')),
    **MYSQL
    )
    op.create_index('ix_session_tags_tag', 'session_tags', ['tag'], unique=False)
    op.create_table('message_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['conversation_messages.id'],
                            name=op.f('fk_message_ratings_message_id_conversation_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_message_ratings_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_ratings')),
    sa.UniqueConstraint('message_id', name=op.f('uq_message_ratings_message_id')),
    **MYSQL
    )
    op.create_index('ix_message_ratings_user', 'message_ratings', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('message_ratings')
    op.drop_table('session_tags')
    # MariaDB refuses to drop an index a foreign key needs: the (session_id, ...) index is the only
    # one starting with session_id besides ix_conversation_messages_session_created, so it can go.
    op.drop_index('ix_conversation_messages_source', table_name='conversation_messages')
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop the FTS triggers and
    # break the views over these tables.
    op.drop_column('conversation_messages', 'source_id')
    op.drop_index('ix_conversation_sessions_source', table_name='conversation_sessions')
    for column in ('note', 'source_id', 'source'):
        op.drop_column('conversation_sessions', column)
