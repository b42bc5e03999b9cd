"""The core's composition root: settings, secrets, database and the current user, built lazily.

CLI commands, the GUI and tests all start from an :class:`AppContext`, so every front end sees
the same configuration rules. Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from synthbot_desktop.config import Settings
from synthbot_desktop.errors import DatabaseError
from synthbot_desktop.keystore import KeyStore
from synthbot_desktop.platform_paths import AppPaths
from synthbot_desktop.setting_keys import DATABASE_URL

# SQLAlchemy and Alembic cost ~0.7 s to import: loaded on first database use, so `--version` and
# `--help` stay instant (issue #12, test_cold_start.py).
if TYPE_CHECKING:
    from synthbot_desktop.storage.db import Database
    from synthbot_desktop.storage.offline import ConversationCache, OfflineSpool
    from synthbot_desktop.storage.recorder import Recorder

log = logging.getLogger(__name__)


class AppContext:
    """Lazily-built services for one process."""

    def __init__(self, settings: Settings | None = None, env: Mapping[str, str] | None = None) -> None:
        self.env: Mapping[str, str] = dict(os.environ if env is None else env)
        self.settings = settings or Settings.load(self.env)
        self._db: Database | None = None
        self._recorder: Recorder | None = None
        self._user_id: int | None = None
        self._offline: DatabaseError | None = None  # why the server could not be reached, once known
        self._offline_at = 0.0
        self._offline_spool: OfflineSpool | None = None
        # The GUI opens the database from a worker while other workers may ask for it too.
        self._lock = threading.RLock()

    @property
    def paths(self) -> AppPaths:
        return self.settings.paths

    @cached_property
    def keystore(self) -> KeyStore:
        return KeyStore(
            env=self.env,
            allow_file_backend=self.settings.get_bool("secrets.allow_file_backend"),
            file_path=self.paths.data_dir / "keys.json",
        )

    def database_url(self, override: str | None = None) -> str:
        url = override or self.settings.value(DATABASE_URL)
        from synthbot_desktop.storage.db import default_sqlite_url

        return url or default_sqlite_url(self.paths.default_database_file)

    def open_database(self, url: str | None = None) -> Database:
        """An engine for ``url`` (or the configured one), with its password from the keyring."""
        from synthbot_desktop.storage.db import Database, make_engine, parse_url

        parsed = parse_url(self.database_url(url))
        password = None
        if parsed.get_backend_name() != "sqlite" and parsed.username and not parsed.password:
            password = self.keystore.get_db_password(parsed.username, parsed.host or "localhost", parsed.port)
        engine = make_engine(parsed, password=password,
                             connect_timeout=self.settings.get_int("database.connect_timeout"))
        return Database(engine)

    @property
    def db(self) -> Database:
        """The configured database, schema ensured (SQLite upgraded, remote MySQL checked)."""
        with self._lock:
            return self._open_db_once()

    @property
    def opened_db(self) -> Database | None:
        """The database if this process has opened it already, else None; never connects.

        Why: an exit path (the error row of a failed command) may use a connection that is open
        but must not wait a connect timeout for a server that never answered."""
        return self._db

    def _open_db_once(self) -> Database:
        if self._db is None and self._offline is not None and not self._retry_due():
            raise self._offline  # known unreachable: do not pay another connect timeout
        if self._db is None:
            db = self.open_database()
            try:
                from synthbot_desktop.storage import migrate

                migrate.ensure_schema(
                    db.engine, allow_upgrade=self.settings.get_bool("database.auto_upgrade_remote")
                )
            except DatabaseError:
                db.dispose()
                raise
            self._db = db
            # Every command replays the spool before it reads: turns written during an outage
            # show up in `history`, `usage` and as context for `chat --session`.
            self._replay_spool()
        return self._db

    def _replay_spool(self) -> None:
        if self._recorder is not None or not (self.paths.spool_dir / "pending.jsonl").exists():
            return
        try:
            self._recorder_once()
        except Exception as exc:  # best effort: the spool stays for the next command
            log.warning("could not replay the spool: %s", exc)

    # Offline operation -------------------------------------------------------------------------
    def reachable_db(self) -> Database | None:
        """The database, or None when the server cannot be reached (decided once per process:
        each attempt costs up to ``database.connect_timeout``). Other failures (a wrong password,
        an old schema) still raise: spooling cannot fix them."""
        from synthbot_desktop.storage.db import is_unreachable

        with self._lock:  # a second thread waits for this verdict instead of paying its own timeout
            if self._offline is not None and not self._retry_due():
                return None
            try:
                db = self.db
                _ = self.user_id  # a server that went away after the handshake fails here
                self._offline = None
                return db
            except DatabaseError as exc:
                if not is_unreachable(exc):
                    raise
                log.info("database unreachable, working offline: %s", exc)
                self._mark_offline(exc)
                return None

    OFFLINE_RETRY_S = 30.0  # a long-running window tries the server again after this long

    def _retry_due(self) -> bool:
        import time

        return time.monotonic() - self._offline_at >= self.OFFLINE_RETRY_S

    def _mark_offline(self, exc: DatabaseError) -> None:
        import time

        self._offline, self._offline_at = exc, time.monotonic()

    @property
    def offline_reason(self) -> DatabaseError | None:
        """Why this command works offline (None while the database answers)."""
        return self._offline

    @property
    def writer(self) -> Recorder | OfflineSpool:
        """Where records go: the recorder when the database answers, else the local spool."""
        with self._lock:
            if self._recorder is not None:
                return self._recorder
            if self.reachable_db() is not None:
                try:
                    return self._recorder_once()
                except DatabaseError as exc:
                    from synthbot_desktop.storage.db import is_unreachable

                    if not is_unreachable(exc):
                        raise
                    self._mark_offline(exc)
            if self._offline_spool is None:
                from synthbot_desktop.storage.offline import OfflineSpool

                self._offline_spool = OfflineSpool(self.paths.spool_dir)
            return self._offline_spool

    @cached_property
    def conversation_cache(self) -> ConversationCache:
        from synthbot_desktop.storage.offline import ConversationCache

        return ConversationCache(self.paths.data_dir / "conversations")

    def pending_records(self) -> int:
        """How many writes wait in the offline spool (the window's 'offline: N records waiting')."""
        if self._recorder is not None:
            return self._recorder.spooled_count()
        spool = self.paths.spool_dir / "pending.jsonl"
        if not spool.exists():
            return 0
        with spool.open(encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())

    @property
    def user_id(self) -> int:
        """This user's row id, created on first use; computed once even when several threads
        ask at the same moment (the window's start-up and its first pool jobs do)."""
        with self._lock:
            if self._user_id is None:
                from synthbot_desktop.storage import repositories as repo

                with self.db.session() as s:
                    uid = repo.get_or_create_user(s, self.settings.user_name).id
                self._user_id = uid
                from synthbot_desktop.services.history_retention import apply_from_settings

                apply_from_settings(self, uid)  # `history.keep_days` (#17): at every start; no-op when 0
            return self._user_id

    def forget_user(self) -> None:
        """Drop the cached user id (its row was deleted: the next use creates a fresh one)."""
        with self._lock:
            self._user_id = None

    @property
    def recorder(self) -> Recorder:
        with self._lock:
            return self._recorder_once()

    def _recorder_once(self) -> Recorder:
        if self._recorder is None:
            from synthbot_desktop.storage.recorder import Recorder

            self._recorder = Recorder(self.db, self.user_id, self.paths.spool_dir)
            try:
                self._recorder.replay()
            except Exception as exc:  # replay is best effort; the spool stays for next time
                log.warning("could not replay the spool: %s", exc)
        return self._recorder

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until queued records are written or spooled (no-op when nothing was recorded)."""
        return self._recorder.flush(timeout) if self._recorder is not None else True

    def session_id_for(self, session_uid: str) -> int | None:
        """The database id of a session created in this process, once written."""
        return self._recorder.session_id_for(session_uid) if self._recorder is not None else None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None
        if self._db is not None:
            self._db.dispose()
            self._db = None
