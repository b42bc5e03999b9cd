"""`synthbot-desktop history list|search|show|rename|tag|untag|note|rate|export|import|delete`.

The documents come from ``services.history`` and imports from ``services.history_importers``
(the desktop app's History page calls the same ones), so a file exported from either front end
imports in both. Imports are idempotent: importing the same file twice adds nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json, record_id, row_count
from synthbot_desktop.errors import UsageError
from synthbot_desktop.services.history import (  # noqa: F401  (re-exported: the CLI's public names)
    EXPORT_FORMAT,
    EXPORT_VERSION,
    USAGE_CSV_COLUMNS,
    _iso,
    export_document,
    iter_export_all,
    message_dict,
    owned_session,
    session_summary,
    to_markdown,
    usage_csv_rows,
)
from synthbot_desktop.services.history_importers import FORMATS, ImportProgress, files_in, import_file
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import repositories as repo


# CLI ---------------------------------------------------------------------------------------------
def _day_or_time(text: str) -> dt.datetime:
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def _until(text: str) -> dt.datetime:
    """--until DAY includes that whole day."""
    d = _day_or_time(text)
    return d + dt.timedelta(days=1) if len(text.strip()) == 10 else d


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tag", help="only conversations with this tag")
    p.add_argument("--source", help="only conversations from chatgpt, claude, gemini, synthbot "
                                    "(synthbot-desktop: spoken or typed here)")
    p.add_argument("--provider", help="only conversations answered by this provider (openai, ollama, ...)")
    p.add_argument("--since", type=_day_or_time, help="last activity on or after this day (YYYY-MM-DD, UTC)")
    p.add_argument("--until", type=_until, help="last activity on or before this day (YYYY-MM-DD, UTC)")


def _filter(args: argparse.Namespace) -> meta.ListFilter:
    return meta.ListFilter(tag=args.tag, source=args.source, provider=args.provider, since=args.since,
                           until=args.until)


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "history", _usage,
                         "past conversations: list, search, show, tag, note, rate, export, import, delete")
    sub = parser.add_subparsers(dest="history_command", metavar="ACTION")
    lst = add_command(sub, "list", _list, "conversations, newest first")
    lst.add_argument("--limit", type=row_count, default=50)
    lst.add_argument("--offset", type=row_count, default=0)
    _add_filters(lst)
    add_json_flag(lst)
    srch = add_command(sub, "search", _search, "full-text search over all messages")
    srch.add_argument("query")
    srch.add_argument("--limit", type=row_count, default=50)
    _add_filters(srch)
    add_json_flag(srch)
    show = add_command(sub, "show", _show, "print one conversation")
    show.add_argument("session_id", type=record_id)
    add_json_flag(show)
    ren = add_command(sub, "rename", _rename, "give a conversation a new title")
    ren.add_argument("session_id", type=record_id)
    ren.add_argument("title")
    tag = add_command(sub, "tag", _tag, "add tags to a conversation (the tag 'keep' exempts it from retention)")
    tag.add_argument("session_id", type=record_id)
    tag.add_argument("tags", nargs="+", metavar="TAG")
    untag = add_command(sub, "untag", _untag, "remove tags from a conversation")
    untag.add_argument("session_id", type=record_id)
    untag.add_argument("tags", nargs="+", metavar="TAG")
    note = add_command(sub, "note", _note, "set a conversation's note (an empty TEXT clears it)")
    note.add_argument("session_id", type=record_id)
    note.add_argument("text")
    rate = add_command(sub, "rate", _rate, "thumbs up or down on a reply (ids from `history show ID --json`)")
    rate.add_argument("message_id", type=record_id)
    rate.add_argument("rating", choices=("up", "down"))
    rate.add_argument("--comment", help="what was good or wrong")
    exp = add_command(sub, "export", _export, "write a conversation (or --all) as Markdown, JSON or CSV")
    exp.add_argument("session_id", type=record_id, nargs="?")
    exp.add_argument("--all", action="store_true", help="every conversation, with tags, notes and ratings")
    exp.add_argument("--format", choices=("md", "json", "csv"), default="md",
                     help="csv: the usage log (calls, tokens, cost)")
    exp.add_argument("--out", type=Path, help="file to write (default: standard output)")
    imp = add_command(sub, "import", _import, "add conversations from a ChatGPT, Claude, Gemini or SynthBot export")
    imp.add_argument("file", type=Path, metavar="FILE|DIR")
    imp.add_argument("--format", choices=FORMATS, help="which app made the export (detected when omitted)")
    add_json_flag(imp)
    dele = add_command(sub, "delete", _delete, "delete a conversation and its messages")
    dele.add_argument("session_id", type=record_id)
    dele.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: history list | search QUERY | show ID | rename ID TITLE | tag ID TAG | "
                     "untag ID TAG | note ID TEXT | rate MESSAGE_ID up|down | export ID|--all | import FILE | "
                     "delete ID")


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    flt = _filter(args)
    with ctx.db.session() as s:
        rows = [session_summary(r) for r in meta.list_sessions(s, ctx.user_id, flt, limit=args.limit,
                                                                offset=args.offset)]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no conversations" + (" match these filters" if flt.active() else " yet"), file=sys.stderr)
    for r in rows:
        when = str(r["last_message_at"] or r["created_at"])[:16]
        extra = (f"  [{r['source']}]" if r["source"] else "") + (
            "  #" + " #".join(r["tags"]) if r.get("tags") else "")
        print(f"{r['id']:>6}  {when:<16}  {r['message_count']:>4} msgs  {r['title'] or '(untitled)'}{extra}")
    return 0


def _marked(snippet: str, spans: Any, tty: bool) -> str:
    """The snippet with its matches in bold on a terminal, or between «» when piped."""
    on, off = ("\033[1m", "\033[0m") if tty else ("«", "»")
    out, last = [], 0
    for a, b in spans:
        out += [snippet[last:a], on, snippet[a:b], off]
        last = b
    out.append(snippet[last:])
    return "".join(out)


def _search(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        hits = meta.search(s, ctx.user_id, args.query, _filter(args), limit=args.limit)
    if args.json:
        print_json(hits)
        return 0
    if not hits:
        print(f"nothing matches {args.query!r}", file=sys.stderr)
        return 1
    tty = sys.stdout.isatty()
    for h in hits:
        print(f"{h.session_id:>6}  {h.role:<9}  {_marked(h.snippet, h.highlights, tty)}")
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


def _tag(ctx: AppContext, args: argparse.Namespace) -> int:
    return _change_tags(ctx, args, meta.add_tags, "")


def _untag(ctx: AppContext, args: argparse.Namespace) -> int:
    return _change_tags(ctx, args, meta.remove_tags, "(none)")


def _change_tags(ctx: AppContext, args: argparse.Namespace, change: Any, none_left: str) -> int:
    """`history tag` / `untag`: the same ownership check, error mapping and report; only the change differs."""
    with ctx.db.session() as s:
        owned_session(s, args.session_id, ctx.user_id)
        try:
            tags = change(s, args.session_id, args.tags)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    print(f"conversation {args.session_id} tags: {', '.join(tags) or none_left}", file=sys.stderr)
    return 0


def _note(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        owned_session(s, args.session_id, ctx.user_id)
        meta.set_note(s, args.session_id, args.text)
    print(f"{'cleared the' if not args.text.strip() else 'saved the'} note of conversation {args.session_id}",
          file=sys.stderr)
    return 0


def _rate(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        found = meta.owned_message(s, args.message_id, ctx.user_id)
        if found is None:
            raise UsageError(f"no message with id {args.message_id}",
                             hint="message ids are in `synthbot-desktop history show ID --json`")
        if found[1] != "assistant":
            raise UsageError(f"message {args.message_id} is not a reply", hint="rate the assistant's messages")
        meta.rate(s, ctx.user_id, args.message_id, 1 if args.rating == "up" else -1, args.comment)
    print(f"rated message {args.message_id} {args.rating}", file=sys.stderr)
    return 0


def _write(path: Path | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}",
                         hint="choose a writable path with --out") from None


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.all == (args.session_id is not None):
        raise UsageError("give a conversation ID or --all")
    if args.all:
        return _export_all(ctx, args)
    if args.format == "csv":
        raise UsageError("CSV is the usage log of everything", hint="use `history export --all --format csv`")
    with ctx.db.session() as s:
        doc = export_document(s, args.session_id, ctx.user_id)
    _write(args.out, to_markdown(doc) if args.format == "md" else json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    if args.out is not None:
        print(f"wrote {len(doc['messages'])} messages to {args.out}", file=sys.stderr)
    return 0


def _export_all(ctx: AppContext, args: argparse.Namespace) -> int:
    """Streamed to the file one conversation at a time (a JSON list `history import` reads back)."""
    try:
        fh = sys.stdout if args.out is None else args.out.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}",
                         hint="choose a writable path with --out") from None
    sessions = messages = 0
    try:
        if args.format == "csv":
            w = csv.writer(fh)
            w.writerow(USAGE_CSV_COLUMNS)
            with ctx.db.session() as s:
                for row in usage_csv_rows(s, ctx.user_id):
                    w.writerow(["" if v is None else v for v in row])
                    messages += 1
        else:
            if args.format == "json":
                fh.write("[\n")
            for doc in iter_export_all(ctx.db, ctx.user_id):
                if args.format == "json":
                    fh.write((",\n" if sessions else "") + json.dumps(doc, ensure_ascii=False))
                else:
                    fh.write(("\n---\n\n" if sessions else "") + to_markdown(doc))
                sessions += 1
                messages += len(doc["messages"])
            if args.format == "json":
                fh.write("\n]\n")
    finally:
        if fh is not sys.stdout:
            fh.close()
    what = f"{messages} usage rows" if args.format == "csv" else f"{sessions} conversations, {messages} messages"
    print(f"wrote {what}" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _import(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.file.exists():
        raise UsageError(f"{args.file} does not exist")
    tty = sys.stderr.isatty()

    def progress(p: ImportProgress) -> None:
        line = f"{Path(p.file).name}: {p.line()}"
        print(("\r" + line + "\033[K") if tty else line, file=sys.stderr, end="" if tty else "\n", flush=True)

    results = []
    for f in files_in(args.file):
        results.append(import_file(ctx.db, ctx.user_id, f, args.format, on_progress=progress))
        if tty:
            print(file=sys.stderr)
    summary = {k: sum(r.summary()[k] for r in results) for k in (
        "conversations", "sessions_created", "sessions_updated", "messages_added", "messages_existing",
        "skipped", "ignored")}
    summary["truncated"] = any(r.truncated for r in results)
    summary["session_ids"] = [i for r in results for i in r.session_ids]
    summary["files"] = [r.summary() for r in results]
    if args.json:
        print_json(summary)
    else:
        print(f"imported {summary['messages_added']} messages into {summary['sessions_created']} new and "
              f"{summary['sessions_updated']} updated conversations; {summary['messages_existing']} already there, "
              f"{summary['skipped']} malformed entries skipped"
              + ("; the file is truncated (what came before the cut was imported)" if summary["truncated"] else ""),
              file=sys.stderr)
        for r in results:
            for problem in r.problems[:5]:
                print(f"  {Path(r.file).name}: {problem}", file=sys.stderr)
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
