"""drop conversation_messages.rating: never written or read; ratings live in message_ratings (0007)

Revision ID: 0009_drop_message_rating
Revises: 0007_history_meta

The column came with 0001_initial for a feedback feature that was built later as its own table
(one rating per message with a comment and times, issue #17). Nothing ever wrote it, so dropping
it loses no data. Plain DROP/ADD COLUMN (SQLite >= 3.35), not a batch rebuild: a rebuild of
conversation_messages would drop its FTS5 triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_drop_message_rating'
down_revision: str | None = '0007_history_meta'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column('conversation_messages', 'rating')


def downgrade() -> None:
    op.add_column('conversation_messages', sa.Column('rating', sa.Integer(), nullable=True))
