"""Reporting views for BI tools: active user sessions, API usage stats (with p50/p95), preferences.

Plain SQL that runs unchanged on SQLite and MariaDB 10.11 / MySQL 8: percentiles use window
functions (nearest rank), available on both; DATE() exists on both.

Revision ID: 0005_admin
Revises: 0006_quantum
"""

from __future__ import annotations

from alembic import op

revision = "0005_admin"
down_revision = "0006_quantum"  # chained after main's 0006 at merge; written against 0001_initial
branch_labels = None
depends_on = None

VIEWS = {
    "v_active_user_sessions": """
SELECT u.id AS user_id, u.username AS username, COUNT(cs.id) AS sessions,
       COALESCE(SUM(cs.message_count), 0) AS messages, MAX(cs.last_message_at) AS last_message_at
FROM users u LEFT JOIN conversation_sessions cs ON cs.user_id = u.id
GROUP BY u.id, u.username
""",
    "v_api_usage_stats": """
SELECT provider AS service, model, day,
       COUNT(*) AS calls,
       SUM(CASE WHEN success THEN 0 ELSE 1 END) AS failures,
       COALESCE(SUM(tokens_in), 0) AS tokens_in,
       COALESCE(SUM(tokens_out), 0) AS tokens_out,
       COALESCE(SUM(characters), 0) AS characters,
       SUM(cost_usd) AS cost_usd,
       MIN(CASE WHEN latency_ms IS NOT NULL AND rn * 100 >= 50 * n_lat THEN latency_ms END) AS p50_latency_ms,
       MIN(CASE WHEN latency_ms IS NOT NULL AND rn * 100 >= 95 * n_lat THEN latency_ms END) AS p95_latency_ms
FROM (
    SELECT provider, COALESCE(model, '') AS model, DATE(created_at) AS day, success, tokens_in, tokens_out,
           characters, cost_usd, latency_ms,
           COUNT(latency_ms) OVER (PARTITION BY provider, COALESCE(model, ''), DATE(created_at)) AS n_lat,
           ROW_NUMBER() OVER (PARTITION BY provider, COALESCE(model, ''), DATE(created_at)
                              ORDER BY CASE WHEN latency_ms IS NULL THEN 1 ELSE 0 END, latency_ms) AS rn
    FROM api_usage_logs
) ranked
GROUP BY provider, model, day
""",
    "v_user_preferences": """
SELECT u.id AS user_id, u.username AS username, 'setting' AS kind, us.`key` AS name, us.value AS value
FROM users u JOIN user_settings us ON us.user_id = u.id
UNION ALL
SELECT u.id, u.username, 'voice', uvp.provider, uvp.voice_id
FROM users u JOIN user_voice_preferences uvp ON uvp.user_id = u.id AND uvp.is_default
""",
}


def upgrade() -> None:
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
