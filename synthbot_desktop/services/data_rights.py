"""Data rights: a copy of everything kept about this user, or all of it erased (issue #14).

Both work the same from the CLI and (later) the window, and both leave an audit row. Before
either, the offline spool is replayed (opening the database does it), so a turn written during
an outage is exported or erased with the rest. Erasing also removes what this computer keeps
outside the database for the user: the spool, the local copy of conversations, and this app's
entries in the OS keyring (provider API keys, the IBM Quantum token, the database password).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthbot_desktop import __version__

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

EXPORT_FORMAT = "synthbot-user-data"


@dataclass
class DeleteReport:
    rows: dict[str, int] = field(default_factory=dict)
    keyring_entries: list[str] = field(default_factory=list)
    local_files: int = 0


def export_all(ctx: AppContext) -> dict[str, Any]:
    """This user's rows as one JSON-ready document (sessions, messages, preferences, memory, usage)."""
    from synthbot_desktop.storage import repositories as repo
    from synthbot_desktop.storage import user_data

    user_id = ctx.user_id  # opening the database replays the spool first
    with ctx.db.session() as s:
        data = user_data.export_user(s, user_id)
        repo.add_audit(s, "data.export_all", user_id=user_id, entity_type="user", entity_id=str(user_id),
                       details={"rows": data.counts()})
    return {"format": EXPORT_FORMAT, "version": 1, "app_version": __version__,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(), "user": data.user, "tables": data.tables,
            "counts": data.counts()}


def _keyring_names(ctx: AppContext) -> list[str]:
    from synthbot_desktop.config import KEYED_PROVIDERS
    from synthbot_desktop.keystore import IBM_QUANTUM_KEY, db_secret_name
    from synthbot_desktop.storage.db import parse_url

    names = [*KEYED_PROVIDERS, IBM_QUANTUM_KEY]
    url = parse_url(ctx.database_url())
    if url.get_backend_name() != "sqlite" and url.username:
        names.append(db_secret_name(url.username, url.host or "localhost", url.port))
    from synthbot_desktop.services.mcp_servers import keyring_entries

    names.extend(keyring_entries(ctx))  # MCP servers' env values (their server then fails to start: said so)
    return names


def delete_all(ctx: AppContext) -> DeleteReport:
    """Erase this user's rows, local copies and this app's keyring entries; audited."""
    from synthbot_desktop.errors import SecretStoreError
    from synthbot_desktop.storage import repositories as repo
    from synthbot_desktop.storage import user_data

    report = DeleteReport()
    user_id = ctx.user_id  # replays the spool: nothing of this user is left waiting to be written
    names = _keyring_names(ctx)  # before the database password is gone
    ctx.flush()
    with ctx.db.session() as s:
        report.rows = user_data.delete_user(s, user_id)
        # The erasure itself is recorded, without the user (whose row is gone) or any content.
        repo.add_audit(s, "data.delete_all", entity_type="user", entity_id=str(user_id),
                       details={"rows": report.rows})
    ctx.forget_user()  # the cached id names a deleted row
    for path in (ctx.paths.spool_dir / "pending.jsonl", ctx.paths.spool_dir / "rejected.jsonl"):
        if path.exists():
            path.unlink()
            report.local_files += 1
    cache_dir = ctx.paths.data_dir / "conversations"
    if cache_dir.exists():
        report.local_files += sum(1 for _ in cache_dir.glob("*.json"))
        ctx.conversation_cache.clear()
    for name in names:
        try:
            if ctx.keystore.delete_entry(name):
                report.keyring_entries.append(name)
        except SecretStoreError:
            continue  # no usable keyring: nothing of ours can be stored in it
    return report
