"""`synthbot-desktop history list|search|show|rename|export|import|delete`: past conversations.

The export documents come from ``services.history`` (the desktop app's history page calls the
same ones), so a file exported from either front end imports in both.
Imports keep the messages' uids: importing the same file twice is refused instead of
duplicating a conversation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import UsageError
from synthbot_desktop.services.history import (  # noqa: F401  (re-exported: the CLI's public names)
    EXPORT_FORMAT,
    EXPORT_VERSION,
    _iso,
    export_document,
    message_dict,
    owned_session,
    session_summary,
    to_markdown,
)
from synthbot_desktop.services.history_import import load_export
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.models import ConversationMessage
from synthbot_desktop.storage.records import MessageRecord


def import_document(s: Session, user_id: int, doc: Any) -> tuple[int, int]:
    """Create a session from an exported document; returns (session id, message count)."""
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise UsageError("this file is not a SynthBot conversation export",
                         hint="export one with `synthbot-desktop history export ID --format json`")
    if int(doc.get("version", 0)) > EXPORT_VERSION:
        raise UsageError(f"the export is format version {doc.get('version')}, newer than this app understands",
                         hint="update SynthBot Desktop")
    messages = doc.get("messages")
    if not isinstance(messages, list):
        raise UsageError("the export has no 'messages' list")
    records: list[MessageRecord] = []
    for i, m in enumerate(messages, start=1):
        if not isinstance(m, dict) or m.get("role") not in {"user", "assistant", "system", "tool"} or not isinstance(
                m.get("content"), str):
            raise UsageError(f"message {i} in the export is malformed (needs role user/assistant/system and content)")
        records.append(_record_from(m))
    uids = [r.uid for r in records]
    if uids:
        existing = s.scalar(select(ConversationMessage.session_id).where(ConversationMessage.uid.in_(uids)).limit(1))
        if existing is not None:
            raise UsageError(f"this conversation was already imported (it is conversation {existing})",
                             hint=f"open it with `synthbot-desktop history show {existing}`")
    sess = doc.get("session") or {}
    new = repo.create_session(s, user_id, title=sess.get("title"), provider=sess.get("provider"),
                              model=sess.get("model"), tts_engine=sess.get("tts_engine"),
                              voice_id=sess.get("voice_id"))
    for record in records:
        record.session_id = new.id
        repo.add_message(s, record)
    return new.id, len(records)


def _record_from(m: dict[str, Any]) -> MessageRecord:
    import datetime as dt

    kwargs: dict[str, Any] = {k: m.get(k) for k in (
        "full_content", "error", "audio_duration_s", "stt_model", "stt_language", "stt_confidence",
        "provider", "model", "tokens_in", "tokens_out", "timings")}
    record = MessageRecord(session_id=0, role=m["role"], content=m["content"],
                           interrupted=bool(m.get("interrupted")), **kwargs)
    if isinstance(m.get("uid"), str) and m["uid"]:
        record.uid = m["uid"]
    if m.get("created_at"):
        try:
            stamp = dt.datetime.fromisoformat(str(m["created_at"]))
            record.created_at = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        except ValueError:
            raise UsageError(f"message has an unreadable created_at {m['created_at']!r}") from None
    return record


# CLI ---------------------------------------------------------------------------------------------
def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "history", _usage, "past conversations: list, search, show, export, import, delete")
    sub = parser.add_subparsers(dest="history_command", metavar="ACTION")
    lst = add_command(sub, "list", _list, "conversations, newest first")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--offset", type=int, default=0)
    add_json_flag(lst)
    srch = add_command(sub, "search", _search, "full-text search over all messages")
    srch.add_argument("query")
    srch.add_argument("--limit", type=int, default=50)
    add_json_flag(srch)
    show = add_command(sub, "show", _show, "print one conversation")
    show.add_argument("session_id", type=int)
    add_json_flag(show)
    ren = add_command(sub, "rename", _rename, "give a conversation a new title")
    ren.add_argument("session_id", type=int)
    ren.add_argument("title")
    exp = add_command(sub, "export", _export, "write a conversation as Markdown or JSON")
    exp.add_argument("session_id", type=int)
    exp.add_argument("--format", choices=("md", "json"), default="md")
    exp.add_argument("--out", type=Path, help="file to write (default: standard output)")
    imp = add_command(sub, "import", _import, "add a conversation from a JSON export")
    imp.add_argument("file", type=Path)
    add_json_flag(imp)
    dele = add_command(sub, "delete", _delete, "delete a conversation and its messages")
    dele.add_argument("session_id", type=int)
    dele.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: history list | search QUERY | show ID | rename ID TITLE | "
                     "export ID | import FILE | delete ID")


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        rows = [session_summary(r) for r in repo.list_sessions(s, ctx.user_id, limit=args.limit, offset=args.offset)]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no conversations yet", file=sys.stderr)
    for r in rows:
        when = str(r["last_message_at"] or r["created_at"])[:16]
        print(f"{r['id']:>6}  {when:<16}  {r['message_count']:>4} msgs  {r['title'] or '(untitled)'}")
    return 0


def _search(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        hits = repo.search_messages(s, ctx.user_id, args.query, limit=args.limit)
    if args.json:
        print_json(hits)
        return 0
    if not hits:
        print(f"nothing matches {args.query!r}", file=sys.stderr)
        return 1
    for h in hits:
        print(f"{h.session_id:>6}  {h.role:<9}  {h.snippet}")
    return 0


def _show(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        doc = export_document(s, args.session_id, ctx.user_id)
    if args.json:
        print_json(doc)
    else:
        sys.stdout.write(to_markdown(doc))
    return 0


def _rename(ctx: AppContext, args: argparse.Namespace) -> int:
    title = args.title.strip()
    if not title:
        raise UsageError("the new title is empty")
    with ctx.db.session() as s:
        owned_session(s, args.session_id, ctx.user_id)
        repo.rename_session(s, args.session_id, title)
    print(f"renamed conversation {args.session_id}", file=sys.stderr)
    return 0


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        doc = export_document(s, args.session_id, ctx.user_id)
    text = to_markdown(doc) if args.format == "md" else json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}",
                         hint="choose a writable path with --out") from None
    print(f"wrote {len(doc['messages'])} messages to {args.out}", file=sys.stderr)
    return 0


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    doc = load_export(args.file)  # types, duplicates and nesting checked before anything is stored
    with ctx.db.session() as s:
        session_id, count = import_document(s, ctx.user_id, doc)
    if args.json:
        print_json({"session_id": session_id, "messages": count})
    else:
        print(f"imported {count} messages as conversation {session_id}", file=sys.stderr)
    return 0


def _delete(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        row = owned_session(s, args.session_id, ctx.user_id)
        label = row.title or f"conversation {row.id}"
        count = row.message_count
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"deleting {label!r} ({count} messages) cannot be undone",
                             hint="add --yes to confirm")
        answer = input(f"Delete {label!r} and its {count} messages? [y/N] ").strip().lower()
        if answer not in {"y", "yes"}:
            print("kept it", file=sys.stderr)
            return 1
    with ctx.db.session() as s:
        repo.delete_session(s, args.session_id)
        repo.add_audit(s, "session.delete", user_id=ctx.user_id, entity_type="conversation_session",
                       entity_id=str(args.session_id), details={"messages": count})
    print(f"deleted {label!r} ({count} messages)", file=sys.stderr)
    return 0
