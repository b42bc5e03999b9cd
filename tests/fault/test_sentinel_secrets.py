"""Sentinel-secret sweep (issue #14): a recognisable API key and database password go through a
set of commands, failing ones included, and then every file under the config and data dirs
(logs, spool, conversation cache, exports), every row of every table in the database, and
everything the commands printed are searched for them. Expected hits: 0.

The database is a fresh MariaDB database reached as a user of its own whose password is the
sentinel, so the password really travels: typed into `config set database.url`, moved to the
keyring, read back for every command, and shown in errors when the server refuses.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import create_engine, inspect, text

from synthbot_desktop.cli.main import main
from tests.support.fake_http import FakeServer, Request, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url, chat_response
from tests.support.mariadb import HOST, PORT, TcpProxy

API_KEY = "sk-SENTINELKEY" + uuid.uuid4().hex
DB_PASSWORD = "SENTINELPW" + uuid.uuid4().hex[:16]
SENTINELS = (API_KEY, DB_PASSWORD)


@pytest.fixture
def sentinel_db(mysql_url: str) -> Iterator[tuple[str, str]]:
    """(database name, user) with the sentinel password, granted on that database only."""
    name = mysql_url.rsplit("/", 1)[1].split("?")[0]
    user = f"sb_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host=HOST, port=PORT, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{DB_PASSWORD}'")
            cur.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
        yield name, user
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.close()


@pytest.mark.mysql
def test_no_secret_anywhere(app_env: dict[str, str], memory_keyring: object, mysql_url: str,
                            sentinel_db: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    db_name, user = sentinel_db
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
    mode = {"fault": "ok"}

    def handler(req: Request) -> Response:
        if mode["fault"] == "401":  # providers echo (part of) the key back in their error bodies
            return Response.json({"error": {"message": f"Incorrect API key provided: {API_KEY}",
                                            "type": "invalid_request_error", "code": "invalid_api_key"}}, 401)
        if mode["fault"] == "500":
            return Response.json({"error": {"message": f"upstream failed for key {API_KEY} at "
                                                       f"mysql://{user}:{DB_PASSWORD}@db", "type": "server_error"}}, 500)
        return chat_response("openai", req, f"The key {API_KEY[:6]} is not shown here.")

    printed: list[str] = []

    def run(*argv: str, stdin: str | None = None) -> int:
        if stdin is not None:
            import io
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out = capsys.readouterr()
        printed.append(out.out + out.err)
        assert "Traceback" not in out.err
        return code

    proxy = TcpProxy()
    try:
        with FakeServer() as server:
            server.add(*CHAT_ROUTES["openai"], handler)
            monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", base_url("openai", server))
            url = f"mysql+pymysql://{user}:{DB_PASSWORD}@{HOST}:{proxy.port}/{db_name}?charset=utf8mb4"
            assert run("config", "set", "database.url", url) == 0
            assert run("keys", "set", "openai", stdin=API_KEY + "\n") == 0
            assert run("config", "list") == 0
            assert run("config", "list", "--json") == 0
            assert run("config", "get", "database.url") == 0
            assert run("keys", "list") == 0
            assert run("chat", "hello", "--provider", "openai", "--model", "m", "--json") == 0
            sid = json.loads(printed[-1][: printed[-1].rindex("}") + 1])["session_id"]
            mode["fault"] = "401"
            assert run("chat", "again", "--provider", "openai", "--model", "m", "--session", str(sid)) != 0
            mode["fault"] = "500"
            assert run("-v", "chat", "and again", "--provider", "openai", "--model", "m", "--session", str(sid)) != 0
            mode["fault"] = "ok"
            proxy.cut()  # the server is away: the turn is spooled and the errors name the server
            assert run("-v", "chat", "offline", "--provider", "openai", "--model", "m", "--session", str(sid)) == 0
            assert run("history", "list") != 0
            proxy.restore()
            assert run("history", "show", str(sid), "--json") == 0
            assert run("usage", "--json") == 0
            assert run("doctor") in (0, 1)
            assert run("data", "export-all", "--out", str(Path(app_env["SYNTHBOT_DATA_DIR"]) / "export.json")) == 0
            # A wrong password for the same user: the refusal must not echo what was sent.
            monkeypatch.setenv("SYNTHBOT_DATABASE_URL",
                               f"mysql+pymysql://{user}:{DB_PASSWORD}x@{HOST}:{PORT}/{db_name}")
            assert run("history", "list") != 0
            monkeypatch.delenv("SYNTHBOT_DATABASE_URL")
    finally:
        proxy.close()

    hits: list[str] = []
    for i, out in enumerate(printed):
        hits += [f"output of command {i}" for s in SENTINELS if s in out]
    scanned = 0
    names: list[str] = []
    for root in (Path(app_env["SYNTHBOT_CONFIG_DIR"]), Path(app_env["SYNTHBOT_DATA_DIR"])):
        for path in root.rglob("*"):
            if path.is_file():
                scanned += 1
                names.append(path.name)
                data = path.read_bytes()
                hits += [str(path) for s in SENTINELS if s.encode() in data]
    engine = create_engine(mysql_url)
    rows = 0
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                for row in conn.execute(text(f"SELECT * FROM `{table}`")):
                    rows += 1
                    blob = " ".join(str(v) for v in row)
                    hits += [f"table {table}" for s in SENTINELS if s in blob]
    finally:
        engine.dispose()
    assert scanned >= 3 and rows >= 10  # the sweep really looked at something
    assert any(s in memory_keyring.get_password("synthbot-desktop", "openai") for s in [API_KEY])  # type: ignore[attr-defined]
    assert hits == [], f"sentinel secrets found in: {sorted(set(hits))}"
    print(f"\nsentinel sweep: {len(printed)} commands, {scanned} files, {rows} rows, 0 hits; files: {names}")
