"""Database URLs, engines and the mapping of driver failures to sentences a person understands."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from synthbot_desktop.errors import DatabaseError
from synthbot_desktop.redaction import redact, register_secret

log = logging.getLogger(__name__)


def default_sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseError(f"not a database URL: {redact(url)!r}",
                            hint="use sqlite:///PATH or mysql+pymysql://user@host/db?charset=utf8mb4") from None
    if parsed.get_backend_name() not in ("sqlite", "mysql", "mariadb"):
        raise DatabaseError(f"unsupported database {parsed.get_backend_name()!r}",
                            hint="SynthBot Desktop supports SQLite and MySQL/MariaDB")
    if parsed.password:
        register_secret(str(parsed.password))
    return parsed


def masked(url: str | URL) -> str:
    """The URL with its password hidden: safe for logs, doctor output and screenshots."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def is_sqlite(url: str | URL) -> bool:
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers (GUI history) never block the writer
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str | URL, *, password: str | None = None, connect_timeout: int = 5) -> Engine:
    """Create an engine; MySQL URLs get utf8mb4, a connect timeout and liveness checks."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if password and not parsed.password:
        register_secret(password)
        parsed = parsed.set(password=password)
    query = dict(parsed.query)
    query.setdefault("charset", "utf8mb4")
    parsed = parsed.set(query=query)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_recycle=3600,
        # A half-open server (accepts, never answers) must not hang a command: the handshake and
        # every read/write are bounded by the configured timeout, and the pool never waits long.
        connect_args={"connect_timeout": connect_timeout, "read_timeout": io_timeout(connect_timeout),
                      "write_timeout": io_timeout(connect_timeout)},
        pool_timeout=connect_timeout,
    )


MAINTENANCE_IO_TIMEOUT_S = 3600
"""Read/write bound for schema migrations and backups: an ALTER or index build on a big shared
table can take minutes, and cutting it off at the 5 s a turn may wait would leave it half done."""


@contextmanager
def long_statements(conn: Any, seconds: int = MAINTENANCE_IO_TIMEOUT_S) -> Iterator[Any]:
    """Lift the MySQL read/write bound on one connection for maintenance work, after the handshake
    (an unreachable or half-open server still fails within the connect timeout), and restore it
    before the connection goes back to the pool. SQLite connections are unchanged."""
    raw = getattr(conn.connection, "dbapi_connection", None)
    if raw is None or not hasattr(raw, "_read_timeout"):
        yield conn
        return
    saved = raw._read_timeout, raw._write_timeout
    raw._read_timeout = raw._write_timeout = seconds  # PyMySQL applies these at every socket read/write
    try:
        yield conn
    finally:
        raw._read_timeout, raw._write_timeout = saved


def io_timeout(connect_timeout: int) -> int:
    """Read/write bound for MySQL (the handshake too): the configured timeout, at least 5 s so a
    slow history query on a big table still completes."""
    return max(connect_timeout, 5)


# PyMySQL / MySQL error numbers worth a specific sentence.
_MYSQL_MESSAGES: dict[int, tuple[str, str]] = {
    1045: ("the database server rejected the user name or password",
           "store the password with `synthbot-desktop db password` or fix the user in the URL"),
    1044: ("the database user may not use this database", "ask the database administrator for access"),
    1049: ("the database does not exist on the server", "create it (CREATE DATABASE ... CHARACTER SET utf8mb4)"),
    2003: ("the database server refused the connection or is not running",
           "check the host and port, and that the server is running"),
    2005: ("the database host name is unknown", "check the host name in the URL"),
    2006: ("the database server went away", "check the server"),
    2013: ("the connection to the database server was lost or did not answer in time",
           "check the network and the server"),
}


# Connectivity failures: waiting (and spooling meanwhile) can help, unlike a wrong password.
UNREACHABLE_CODES = frozenset({2003, 2006, 2013})


def is_unreachable(error: BaseException) -> bool:
    """True when ``error`` means the server could not be reached (the turn goes on offline)."""
    return bool(getattr(error, "unreachable", False))


def describe_db_error(error: BaseException, url: str | URL | None = None) -> DatabaseError:
    """Turn a driver exception into a DatabaseError naming the cause and the fix."""
    where = f" ({masked(url)})" if url is not None else ""
    orig = getattr(error, "orig", None) or error
    code = None
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        code = args[0]
    detail = str(orig)
    if code == 2003 and any(m in detail for m in ("Name or service not known", "nodename nor servname",
                                                   "getaddrinfo failed", "Temporary failure in name resolution")):
        code = 2005  # PyMySQL reports DNS failures as "can't connect"
    if code == 2003 and "timed out" in detail:
        error_ = DatabaseError(f"the database server did not answer in time{where}",
                               hint="check the host, port, firewall and VPN")
        error_.unreachable = True  # type: ignore[attr-defined]
        return error_
    if code in _MYSQL_MESSAGES:
        message, hint = _MYSQL_MESSAGES[code]
        error_ = DatabaseError(message + where, hint=hint)
        error_.unreachable = code in UNREACHABLE_CODES  # type: ignore[attr-defined]
        return error_
    text_ = redact(str(orig)).splitlines()[0] if str(orig) else type(orig).__name__
    if "unable to open database file" in text_:
        return DatabaseError(f"the SQLite file cannot be opened{where}",
                             hint="check that its folder exists and is writable")
    if "database is locked" in text_:
        return DatabaseError(f"the SQLite file is locked by another program{where}",
                             hint="close other copies of the app and try again")
    return DatabaseError(f"database error{where}: {text_}")


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except exc.SQLAlchemyError as error:
        raise describe_db_error(error, engine.url) from None


class Database:
    """An engine plus a session factory; ``session()`` commits or rolls back as a unit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: everything in the block is written, or nothing is."""
        s = self._factory()
        try:
            yield s
            s.commit()
        except exc.SQLAlchemyError as error:
            s.rollback()
            raise describe_db_error(error, self.engine.url) from error
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
