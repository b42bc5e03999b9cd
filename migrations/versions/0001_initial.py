"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23 10:37:54.708318
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import synthbot_desktop.storage.types

revision: str = '0001_initial'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('available_voices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('voice_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('labels', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=True),
    sa.Column('description', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=True),
    sa.Column('preview_url', sa.String(length=1000), nullable=True),
    sa.Column('default_settings', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=True),
    sa.Column('fetched_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_available_voices')),
    sa.UniqueConstraint('provider', 'voice_id', name=op.f('uq_available_voices_provider_voice_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('error_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=True),
    sa.Column('message', sa.String(length=2000), nullable=False),
    sa.Column('details', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_error_logs')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('error_logs', schema=None) as batch_op:
        batch_op.create_index('ix_error_logs_created', ['created_at'], unique=False)

    op.create_table('feature_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feature_flags')),
    sa.UniqueConstraint('name', name=op.f('uq_feature_flags_name')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('system_configurations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=150), nullable=False),
    sa.Column('value', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_configurations')),
    sa.UniqueConstraint('key', name=op.f('uq_system_configurations_key')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('api_configurations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=True),
    sa.Column('default_model', sa.String(length=200), nullable=True),
    sa.Column('key_fingerprint', sa.String(length=80), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_validated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_configurations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_configurations')),
    sa.UniqueConstraint('user_id', 'provider', name=op.f('uq_api_configurations_user_id_provider')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('audit_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=True),
    sa.Column('entity_id', sa.String(length=100), nullable=True),
    sa.Column('details', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_logs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_logs')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.create_index('ix_audit_logs_created', ['created_at'], unique=False)

    op.create_table('personas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('system_prompt', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('temperature', sa.Float(), nullable=True),
    sa.Column('voice_id', sa.String(length=100), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personas')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_personas_user_id_name')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('user_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=150), nullable=False),
    sa.Column('value', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_settings')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_user_settings_user_id_key')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('user_voice_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('voice_id', sa.String(length=100), nullable=False),
    sa.Column('model_id', sa.String(length=100), nullable=True),
    sa.Column('stability', sa.Float(), nullable=True),
    sa.Column('similarity_boost', sa.Float(), nullable=True),
    sa.Column('style', sa.Float(), nullable=True),
    sa.Column('use_speaker_boost', sa.Boolean(), nullable=True),
    sa.Column('speed', sa.Float(), nullable=True),
    sa.Column('output_format', sa.String(length=40), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_voice_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_voice_preferences')),
    sa.UniqueConstraint('user_id', 'provider', 'voice_id', name=op.f('uq_user_voice_preferences_user_id_provider_voice_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('conversation_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('persona_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=40), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('tts_engine', sa.String(length=40), nullable=True),
    sa.Column('voice_id', sa.String(length=100), nullable=True),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_message_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['persona_id'], ['personas.id'], name=op.f('fk_conversation_sessions_persona_id_personas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversation_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_sessions')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('conversation_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_sessions_user_last', ['user_id', 'last_message_at'], unique=False)

    op.create_table('conversation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('full_content', sa.Text().with_variant(mysql.LONGTEXT(), 'mariadb').with_variant(mysql.LONGTEXT(), 'mysql'), nullable=True),
    sa.Column('interrupted', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('audio_duration_s', sa.Float(), nullable=True),
    sa.Column('stt_model', sa.String(length=200), nullable=True),
    sa.Column('stt_language', sa.String(length=16), nullable=True),
    sa.Column('stt_confidence', sa.Float(), nullable=True),
    sa.Column('provider', sa.String(length=40), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('tokens_in', sa.Integer(), nullable=True),
    sa.Column('tokens_out', sa.Integer(), nullable=True),
    sa.Column('timings', sa.JSON().with_variant(mysql.JSON(), 'mysql'), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['conversation_sessions.id'], name=op.f('fk_conversation_messages_session_id_conversation_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_messages')),
    sa.UniqueConstraint('uid', name=op.f('uq_conversation_messages_uid')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_messages_session_created', ['session_id', 'created_at'], unique=False)

    op.create_table('api_usage_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('endpoint', sa.String(length=300), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('request_id', sa.String(length=200), nullable=True),
    sa.Column('tokens_in', sa.Integer(), nullable=True),
    sa.Column('tokens_out', sa.Integer(), nullable=True),
    sa.Column('tokens_estimated', sa.Boolean(), nullable=False),
    sa.Column('characters', sa.Integer(), nullable=True),
    sa.Column('audio_seconds', sa.Float(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('ttfb_ms', sa.Float(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('error_kind', sa.String(length=40), nullable=True),
    sa.Column('error_message', sa.String(length=1000), nullable=True),
    sa.Column('cost_usd', sa.Numeric(precision=14, scale=6), nullable=True),
    sa.Column('created_at', synthbot_desktop.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['conversation_messages.id'], name=op.f('fk_api_usage_logs_message_id_conversation_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['conversation_sessions.id'], name=op.f('fk_api_usage_logs_session_id_conversation_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_usage_logs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_usage_logs')),
    sa.UniqueConstraint('uid', name=op.f('uq_api_usage_logs_uid')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('api_usage_logs', schema=None) as batch_op:
        batch_op.create_index('ix_api_usage_logs_provider_created', ['provider', 'created_at'], unique=False)
        batch_op.create_index('ix_api_usage_logs_user_created', ['user_id', 'created_at'], unique=False)

    _create_search_index()


def _create_search_index() -> None:
    """Full-text search over message content: FTS5 on SQLite, a FULLTEXT index on MySQL."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE conversation_messages_fts USING fts5("
            "content, content='conversation_messages', content_rowid='id', tokenize='unicode61')"
        )
        op.execute(
            "CREATE TRIGGER conversation_messages_ai AFTER INSERT ON conversation_messages BEGIN "
            "INSERT INTO conversation_messages_fts(rowid, content) VALUES (new.id, new.content); END"
        )
        op.execute(
            "CREATE TRIGGER conversation_messages_ad AFTER DELETE ON conversation_messages BEGIN "
            "INSERT INTO conversation_messages_fts(conversation_messages_fts, rowid, content) "
            "VALUES ('delete', old.id, old.content); END"
        )
        op.execute(
            "CREATE TRIGGER conversation_messages_au AFTER UPDATE OF content ON conversation_messages BEGIN "
            "INSERT INTO conversation_messages_fts(conversation_messages_fts, rowid, content) "
            "VALUES ('delete', old.id, old.content); "
            "INSERT INTO conversation_messages_fts(rowid, content) VALUES (new.id, new.content); END"
        )
    elif bind.dialect.name in ("mysql", "mariadb"):
        op.execute("CREATE FULLTEXT INDEX ft_conversation_messages_content ON conversation_messages (content)")


def _drop_search_index() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("conversation_messages_ai", "conversation_messages_ad", "conversation_messages_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS conversation_messages_fts")
    elif bind.dialect.name in ("mysql", "mariadb"):
        op.execute("DROP INDEX ft_conversation_messages_content ON conversation_messages")


def downgrade() -> None:
    # DROP TABLE removes each table's indexes; dropping an index first fails on MariaDB
    # (error 1553) while a foreign key still needs it.
    _drop_search_index()
    op.drop_table('api_usage_logs')
    op.drop_table('conversation_messages')
    op.drop_table('conversation_sessions')
    op.drop_table('user_voice_preferences')
    op.drop_table('user_settings')
    op.drop_table('personas')
    op.drop_table('audit_logs')
    op.drop_table('api_configurations')
    op.drop_table('users')
    op.drop_table('system_configurations')
    op.drop_table('feature_flags')
    op.drop_table('error_logs')
    op.drop_table('available_voices')
