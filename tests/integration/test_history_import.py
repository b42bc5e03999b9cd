"""`history import` of ChatGPT, Claude and Gemini exports, tags/notes/ratings, filters, export --all
round trip and retention, on a SQLite file and a fresh MariaDB database (issue #17)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.services import history_importers as imp
from synthbot_desktop.services.history_retention import apply_retention
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import AuditLog
from synthbot_desktop.storage.records import MessageRecord
from tests.support import exports


@pytest.fixture
def home(app_env: dict[str, str], memory_keyring: object, any_db_url: str,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    database = Database(make_engine(any_db_url))
    migrate.upgrade(database.engine)
    database.dispose()
    yield any_db_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _show(capsys: pytest.CaptureFixture[str], sid: int) -> dict[str, Any]:
    code, out, err = run(capsys, "history", "show", str(sid), "--json")
    assert code == 0, err
    return dict(json.loads(out))


def _by_source_id(capsys: pytest.CaptureFixture[str], source_id: str) -> dict[str, Any]:
    _code, out, _ = run(capsys, "history", "list", "--json", "--limit", "1000")
    rows = [r for r in json.loads(out) if r["source_id"] == source_id]
    assert len(rows) == 1, rows
    return _show(capsys, rows[0]["id"])


def test_chatgpt_export_branches_tools_attachments_and_idempotency(
        home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export, expect = exports.chatgpt_export()
    f = exports.write(tmp_path / "chatgpt" / "conversations.json", export)
    code, out, err = run(capsys, "history", "import", str(f), "--json")  # format detected
    assert code == 0, err
    res = json.loads(out)
    assert res["messages_added"] == expect["messages"]
    assert res["sessions_created"] == expect["sessions"]
    assert res["skipped"] == expect["skipped"] and res["ignored"] == expect["ignored"]
    assert res["files"][0]["format"] == "chatgpt"
    a = _by_source_id(capsys, expect["a"]["id"])
    assert a["session"]["title"] == expect["a"]["title"] and a["session"]["source"] == "chatgpt"
    assert [m["content"] for m in a["messages"]] == expect["a"]["contents"]
    assert [m["role"] for m in a["messages"]] == expect["a"]["roles"]
    assert a["messages"][1]["model"] == "gpt-4o"
    # Original timestamps kept (create_time 1_700_000_001 for the first question).
    assert a["messages"][0]["created_at"].startswith("2023-11-14T22:13:21")
    assert a["session"]["created_at"].startswith("2023-11-14T22:13:20")
    text = json.dumps(a, ensure_ascii=False)
    for hidden in ("OLD regenerated", "EDITED AWAY", "hidden tool call", "tool output", "I like trains"):
        assert hidden not in text
    c = _by_source_id(capsys, expect["c"]["id"])
    assert [m["content"] for m in c["messages"]] == expect["c"]["contents"]
    assert c["session"]["title"] == "日本語のテスト message without time"
    d = _by_source_id(capsys, expect["d"]["id"])
    assert [m["content"] for m in d["messages"]] == expect["d"]["contents"]

    # Importing the folder (the unpacked zip) again adds nothing.
    code, out, err = run(capsys, "history", "import", str(tmp_path / "chatgpt"), "--json")
    again = json.loads(out)
    assert code == 0 and again["messages_added"] == 0 and again["sessions_created"] == 0
    assert again["messages_existing"] == expect["messages"]
    code, out, _ = run(capsys, "history", "list", "--json", "--source", "chatgpt")
    assert len(json.loads(out)) == expect["sessions"]

    # A later export where the conversation grew adds only the new turn, to the same session.
    export[0]["mapping"][export[0]["current_node"]]["children"].append("new-node")
    export[0]["mapping"]["new-node"] = {"id": "new-node", "parent": export[0]["current_node"], "children": [],
                                        "message": {"id": "new-node", "author": {"role": "user"},
                                                    "create_time": 1_700_000_100.0,
                                                    "content": {"content_type": "text", "parts": ["Thanks!"]},
                                                    "metadata": {}, "recipient": "all"}}
    export[0]["current_node"] = "new-node"
    exports.write(f, export)
    code, out, _ = run(capsys, "history", "import", str(f), "--json", "--format", "chatgpt")
    grown = json.loads(out)
    assert grown["messages_added"] == 1 and grown["sessions_updated"] == 1 and grown["sessions_created"] == 0
    assert [m["content"] for m in _by_source_id(capsys, expect["a"]["id"])["messages"]][-1] == "Thanks!"


def test_truncated_chatgpt_file_keeps_what_came_before(home: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    export, expect = exports.chatgpt_export()
    whole = json.dumps(export, ensure_ascii=False)
    cut = whole.index('"title": "No current_node"')  # inside the last conversation
    f = tmp_path / "conversations.json"
    f.write_text(whole[:cut], encoding="utf-8")
    code, out, err = run(capsys, "history", "import", str(f), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["truncated"] is True
    assert res["messages_added"] == expect["messages"] - 2  # conversation d was cut off
    assert res["skipped"] == expect["skipped"] + 1
    code, _, err = run(capsys, "history", "import", str(f))
    assert code == 0 and "truncated" in err and "imported 0 messages" in err


def test_claude_export(home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export, expect = exports.claude_export()
    f = exports.write(tmp_path / "claude" / "conversations.json", export)
    code, out, err = run(capsys, "history", "import", str(f), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["files"][0]["format"] == "claude"
    assert res["messages_added"] == expect["messages"]
    assert res["skipped"] == expect["skipped"] and res["ignored"] == expect["ignored"]
    doc = _by_source_id(capsys, "11111111-2222-3333-4444-555555555555")
    assert doc["session"]["title"] == "Ünïcode 🦀 Rust question" and doc["session"]["source"] == "claude"
    assert [m["content"] for m in doc["messages"]] == expect["contents"]
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant", "user"]
    assert doc["messages"][2]["created_at"] >= doc["messages"][1]["created_at"]  # missing time: after its predecessor
    code, out, _ = run(capsys, "history", "import", str(f), "--json")
    assert json.loads(out)["messages_added"] == 0


def test_gemini_takeout(home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export, expect = exports.gemini_activity()
    root = tmp_path / "Takeout"
    exports.write(root / "My Activity" / "Gemini Apps" / "MyActivity.json", export)
    code, out, err = run(capsys, "history", "import", str(root), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["files"][0]["format"] == "gemini"
    assert res["messages_added"] == expect["messages"] and res["sessions_created"] == expect["sessions"]
    assert res["ignored"] == expect["ignored"] and res["skipped"] == expect["skipped"]
    assert [m["content"] for m in _by_source_id(capsys, "day:2025-05-02")["messages"]] == expect["day2"]
    assert [m["content"] for m in _by_source_id(capsys, "day:2025-05-01")["messages"]] == expect["day1"]
    code, out, _ = run(capsys, "history", "import", str(root), "--json", "--format", "gemini")
    assert json.loads(out)["messages_added"] == 0


def test_unknown_and_missing_files_are_one_line(home: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    f = exports.write(tmp_path / "other.json", [{"hello": 1}])
    code, _, err = run(capsys, "history", "import", str(f))
    assert code == 2 and "cannot tell which app exported other.json" in err and "Traceback" not in err
    code, _, err = run(capsys, "history", "import", str(tmp_path / "nope.json"))
    assert code == 2 and "does not exist" in err
    (tmp_path / "emptydir").mkdir()
    code, _, err = run(capsys, "history", "import", str(tmp_path / "emptydir"))
    assert code == 2 and "no conversations.json" in err


def test_streaming_reads_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Elements larger than a chunk, numbers split across chunks, and a BOM: same result as json."""
    monkeypatch.setattr(imp, "CHUNK", 7)
    docs: list[Any] = [{"a": "x" * 50, "n": 123456789}, 3.25, [1, 2, {"b": "é🙂"}], "s", None, 1234567]
    f = tmp_path / "a.json"
    f.write_text("\ufeff [\n" + ",\n ".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n]\n",
                 encoding="utf-8")
    with f.open(encoding="utf-8-sig") as fh:
        assert list(imp.iter_array(fh)) == docs
    f.write_text('[{"a": 1}, {"b": ', encoding="utf-8")
    with f.open(encoding="utf-8") as fh, pytest.raises(imp.TruncatedFile):
        got = []
        for item in imp.iter_array(fh):
            got.append(item)
    assert got == [{"a": 1}]


def test_progress_is_reported_with_counts(home: str, tmp_path: Path) -> None:
    f = tmp_path / "conversations.json"
    exports.write_stream(f, exports.big_chatgpt(300, 3))
    seen: list[tuple[float, int]] = []
    ctx = AppContext()
    try:
        prog = imp.import_file(ctx.db, ctx.user_id, f, on_progress=lambda p: seen.append((p.fraction, p.conversations)),
                               progress_every=0.0)
    finally:
        ctx.close()
    assert prog.messages_added == 300 * 6 and prog.sessions_created == 300
    assert len(seen) > 10 and seen[-1] == (1.0, 300)
    assert [c for _, c in seen] == sorted(c for _, c in seen)


def test_tags_notes_ratings_filters_and_round_trip(home: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str], any_db_url: str) -> None:
    export, _ = exports.chatgpt_export()
    f = exports.write(tmp_path / "conversations.json", export)
    assert run(capsys, "history", "import", str(f))[0] == 0
    ctx = AppContext()
    with ctx.db.session() as s:
        native = repo.create_session(s, ctx.user_id, provider="ollama", model="llama3.2")
        repo.add_message(s, MessageRecord(native.id, "user", "Where do penguins live?"))
        repo.add_message(s, MessageRecord(native.id, "assistant", "Penguins live in the south."))
        nid = native.id
    ctx.close()
    code, out, _ = run(capsys, "history", "list", "--json")
    rows = json.loads(out)
    lisbon = next(r for r in rows if r["title"] and r["title"].startswith("Trip to Lisbon"))
    assert run(capsys, "history", "tag", str(lisbon["id"]), "Travel", "keep", "travel")[0] == 0
    assert run(capsys, "history", "tag", str(nid), "animals")[0] == 0
    code, _, err = run(capsys, "history", "tag", str(nid), "two words")
    assert code == 2 and "is not a tag" in err
    assert run(capsys, "history", "untag", str(lisbon["id"]), "keep")[0] == 0
    assert run(capsys, "history", "note", str(nid), "Ask about emperor penguins 🐧")[0] == 0
    code, out, _ = run(capsys, "history", "list", "--tag", "travel", "--json")
    listed = json.loads(out)
    assert [r["id"] for r in listed] == [lisbon["id"]] and listed[0]["tags"] == ["travel"]
    code, out, _ = run(capsys, "history", "list", "--source", "synthbot-desktop", "--json")
    assert [r["id"] for r in json.loads(out)] == [nid]
    assert json.loads(out)[0]["note"] == "Ask about emperor penguins 🐧"
    code, out, _ = run(capsys, "history", "list", "--provider", "ollama", "--json")
    assert [r["id"] for r in json.loads(out)] == [nid]
    code, out, _ = run(capsys, "history", "list", "--until", "2023-11-15", "--json")
    assert lisbon["id"] in [r["id"] for r in json.loads(out)] and nid not in [r["id"] for r in json.loads(out)]
    code, out, _ = run(capsys, "history", "list", "--since", "2023-11-16", "--json")
    assert lisbon["id"] not in [r["id"] for r in json.loads(out)]

    # Ratings: only replies; a second rating replaces the first.
    shown = _show(capsys, nid)
    reply_id = shown["messages"][1]["id"]
    code, _, err = run(capsys, "history", "rate", str(shown["messages"][0]["id"]), "up")
    assert code == 2 and "is not a reply" in err
    assert run(capsys, "history", "rate", str(reply_id), "down", "--comment", "too vague")[0] == 0
    assert run(capsys, "history", "rate", str(reply_id), "up", "--comment", "better, thanks")[0] == 0
    assert _show(capsys, nid)["messages"][1]["rating"]["rating"] == 1
    assert run(capsys, "history", "rate", "999999", "up")[0] == 2

    # Search filters and highlighted snippets.
    code, out, _ = run(capsys, "history", "search", "penguins", "--json")
    hits = json.loads(out)
    assert {h["session_id"] for h in hits} == {nid}
    h = hits[0]
    assert all(h["snippet"][a:b].lower().startswith("penguin") for a, b in h["highlights"]) and h["highlights"]
    code, out, _ = run(capsys, "history", "search", "penguins", "--tag", "travel", "--json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, "history", "search", "tram", "--source", "chatgpt")
    assert code == 0 and "«tram»" in out

    # export --all (json, md, csv) and a round trip into an empty database.
    arch = tmp_path / "all.json"
    code, _, err = run(capsys, "history", "export", "--all", "--format", "json", "--out", str(arch))
    assert code == 0 and "4 conversations" in err
    md = tmp_path / "all.md"
    assert run(capsys, "history", "export", "--all", "--format", "md", "--out", str(md))[0] == 0
    md_text = md.read_text(encoding="utf-8")
    assert "tags: travel" in md_text and "> Ask about emperor penguins 🐧" in md_text and "👍 “better, thanks”" in md_text
    usage_csv = tmp_path / "usage.csv"
    assert run(capsys, "history", "export", "--all", "--format", "csv", "--out", str(usage_csv))[0] == 0
    assert usage_csv.read_text(encoding="utf-8").startswith("created_at,provider,endpoint")
    before = json.loads(arch.read_text(encoding="utf-8"))

    other = tmp_path / "other.sqlite3"
    fresh_url = f"sqlite:///{other}"
    fresh = Database(make_engine(fresh_url))
    migrate.upgrade(fresh.engine)
    fresh.dispose()
    import os

    os.environ["SYNTHBOT_DATABASE_URL"] = fresh_url
    try:
        code, out, err = run(capsys, "history", "import", str(arch), "--json")
        assert code == 0, err
        assert json.loads(out)["sessions_created"] == 4
        back = tmp_path / "back.json"
        assert run(capsys, "history", "export", "--all", "--format", "json", "--out", str(back))[0] == 0
        after = json.loads(back.read_text(encoding="utf-8"))
        code, out, _ = run(capsys, "history", "import", str(arch), "--json")  # idempotent
        assert code == 0 and json.loads(out)["messages_added"] == 0
    finally:
        os.environ["SYNTHBOT_DATABASE_URL"] = any_db_url

    def comparable(docs: list[dict[str, Any]]) -> list[Any]:
        out = []
        for d in sorted(docs, key=lambda d: d["session"]["created_at"] + (d["session"]["title"] or "")):
            sess = {k: d["session"][k] for k in ("title", "provider", "model", "created_at", "last_message_at",
                                                 "note", "tags", "message_count")}
            sess["source"] = d["session"]["source"] or "synthbot"
            msgs = [{k: m.get(k) for k in ("uid", "role", "content", "created_at", "model", "provider",
                                           "interrupted", "full_content")}
                    | {"rating": (m.get("rating") or {}).get("rating"),
                       "comment": (m.get("rating") or {}).get("comment")} for m in d["messages"]]
            out.append((sess, msgs))
        return out

    assert comparable(after) == comparable(before)


def test_retention_boundaries_keep_tag_and_audit(home: str) -> None:
    ctx = AppContext()
    now = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
    try:
        with ctx.db.session() as s:
            ids = {}
            for name, age in (("old", dt.timedelta(days=30, seconds=1)), ("edge", dt.timedelta(days=30)),
                              ("young", dt.timedelta(days=29)), ("pinned", dt.timedelta(days=400))):
                row = repo.create_session(s, ctx.user_id, title=name)
                repo.add_message(s, MessageRecord(row.id, "user", name, created_at=now - age))
                ids[name] = row.id
            meta.add_tags(s, ids["pinned"], ["keep"])
        assert apply_retention(ctx.db, ctx.user_id, 0, now=now) == []  # 0 = keep forever
        gone = apply_retention(ctx.db, ctx.user_id, 30, now=now)
        assert gone == [ids["old"]]  # exactly 30 days old stays; a second older goes
        with ctx.db.session() as s:
            left = {r.title for r in meta.list_sessions(s, ctx.user_id)}
            audits = list(s.scalars(select(AuditLog).where(AuditLog.action == "session.retention_delete")))
        assert left == {"edge", "young", "pinned"}
        assert [a.entity_id for a in audits] == [str(ids["old"])] and audits[0].details["keep_days"] == 30
        assert apply_retention(ctx.db, ctx.user_id, 30, now=now) == []
    finally:
        ctx.close()


def test_retention_applies_when_a_command_starts(home: str, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ctx = AppContext()
    old_time = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    try:
        with ctx.db.session() as s:
            old = repo.create_session(s, ctx.user_id, title="old")
            repo.add_message(s, MessageRecord(old.id, "user", "old", created_at=old_time))
            pinned = repo.create_session(s, ctx.user_id, title="pinned")
            repo.add_message(s, MessageRecord(pinned.id, "user", "pinned", created_at=old_time))
            meta.add_tags(s, pinned.id, ["keep"])
            fresh = repo.create_session(s, ctx.user_id, title="fresh")
            repo.add_message(s, MessageRecord(fresh.id, "user", "fresh"))
    finally:
        ctx.close()
    code, out, _ = run(capsys, "history", "list", "--json")
    assert {r["title"] for r in json.loads(out)} == {"old", "pinned", "fresh"}  # keep_days 0: forever
    monkeypatch.setenv("SYNTHBOT_SET__HISTORY__KEEP_DAYS", "7")
    code, out, _ = run(capsys, "history", "list", "--json")
    assert code == 0 and {r["title"] for r in json.loads(out)} == {"pinned", "fresh"}
