"""Importing conversations from ChatGPT, Claude, Gemini (Google Takeout) and our own exports (#17).

Every supported big export is a top-level JSON array, read here one element at a time
(:func:`iter_array`: ``json.JSONDecoder.raw_decode`` over a sliding buffer), so a 200 MB
``conversations.json`` costs the memory of its largest conversation, not of the file. A malformed
element is skipped and counted; a truncated file stops at the cut with what came before stored.
Importing is idempotent: sessions are keyed by the source's conversation id, messages by the
source's message id (``storage.history_meta.store_conversation``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage.history_meta import ImportedConversation, ImportedMessage

FORMATS = ("chatgpt", "claude", "gemini", "synthbot")
CHUNK = 1 << 20  # 1 MiB reads
BATCH_MESSAGES = 5000  # one transaction per this many messages: fast, and a crash loses little
_HINT = "supported: ChatGPT or Claude conversations.json, Google Takeout MyActivity.json, SynthBot exports"


class TruncatedFile(Exception):
    """The file ends inside an element (a cut download); what came before is still used."""


# Streaming --------------------------------------------------------------------------------------
def iter_array(fh: Any, *, on_bytes: Callable[[int], None] | None = None) -> Iterator[Any]:
    """Yield the elements of the top-level JSON array in a text file, one at a time.

    Raises UsageError when the file is not an array, TruncatedFile when it stops mid-element or
    an element is not JSON at all (the stream cannot resynchronise after a syntax error).
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    consumed = 0  # characters dropped from the front of buf
    eof = False

    def more(need_double: bool = False) -> bool:
        nonlocal buf, pos, consumed, eof
        if eof:
            return False
        size = max(CHUNK, (len(buf) - pos) if need_double else 0)
        chunk = fh.read(size)
        if not chunk:
            eof = True
            return False
        consumed += pos
        buf = buf[pos:] + chunk
        pos = 0
        if on_bytes is not None:
            on_bytes(len(chunk.encode("utf-8", "replace")))
        return True

    def skip_ws() -> bool:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return True
            if not more():
                return False

    if not skip_ws():
        raise UsageError("the file is empty", hint=_HINT)
    if buf[pos] == "\ufeff":
        pos += 1
        skip_ws()
    if buf[pos] != "[":
        raise UsageError("the file is not a JSON list of conversations", hint=_HINT)
    pos += 1
    first = True
    while True:
        if not skip_ws():
            raise TruncatedFile("the file ends before the list is closed")
        if buf[pos] == "]":
            return
        if not first:
            if buf[pos] != ",":
                raise TruncatedFile(f"unexpected {buf[pos]!r} at character {consumed + pos}")
            pos += 1
            if not skip_ws():
                raise TruncatedFile("the file ends after a comma")
        first = False
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
            except RecursionError:
                raise TruncatedFile(f"an element nested too deeply at character {consumed + pos}") from None
            except json.JSONDecodeError as exc:
                # Most likely the element continues in the next chunk (any error can be a cut:
                # mid-string, mid-escape, mid-number); read on, doubling, until the end of the file.
                if more(need_double=True):
                    continue
                where = "ends inside an element" if exc.pos >= len(buf) - 1 else f"is not JSON ({exc.msg})"
                raise TruncatedFile(f"the file {where} at character {consumed + pos}") from None
            if isinstance(value, int | float) and not isinstance(value, bool) and len(buf) - end < 64:
                # A number may go on in the next chunk ("0" of "0.25"): look further before trusting it.
                if more(need_double=True):
                    continue
                if end >= len(buf):
                    raise TruncatedFile(f"the file ends inside a number at character {consumed + pos}")
            break
        if isinstance(value, int | float) and not isinstance(value, bool):
            follow = buf[end:end + 64].lstrip()[:1]
            if follow and follow not in ",]":  # "1e" of a cut "1e16" is not the number 1
                raise TruncatedFile(f"the file ends inside a number at character {consumed + pos}")
        pos = end
        yield value


# Parsers: one element of an export -> ImportedConversation ------------------------------------------
def _from_epoch(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_iso(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _placeholder(part: dict[str, Any]) -> str:
    kind = str(part.get("content_type") or part.get("type") or "attachment")
    name = part.get("name") or part.get("file_name")
    if kind in ("image_asset_pointer",):
        return "[image]"
    if kind == "audio_transcription" and isinstance(part.get("text"), str):
        return str(part["text"])
    if kind in ("audio_asset_pointer", "real_time_user_audio_video_asset_pointer"):
        return "[audio]"
    return f"[{kind}: {name}]" if isinstance(name, str) and name else f"[{kind}]"


_SKIP_CONTENT = {"user_editable_context", "model_editable_context", "system_error", "tether_browsing_display",
                 "tether_quote", "execution_output", "code", "thoughts", "reasoning_recap"}


def parse_chatgpt(item: Any) -> ImportedConversation:
    """One conversation of ChatGPT's ``conversations.json``: the branch the user last saw.

    ``mapping`` is a tree (regenerations and edits are sibling branches); walking from
    ``current_node`` up the ``parent`` links gives exactly the visible transcript.
    """
    if not isinstance(item, dict) or not isinstance(item.get("mapping"), dict):
        raise ValueError("not a ChatGPT conversation (no mapping)")
    mapping: dict[str, Any] = item["mapping"]
    conv_id = item.get("conversation_id") or item.get("id")
    if not isinstance(conv_id, str) or not conv_id:
        raise ValueError("a ChatGPT conversation without an id")
    node_id = item.get("current_node")
    if not isinstance(node_id, str) or node_id not in mapping:
        # No current_node: the newest leaf is what the user saw last.
        leaves = [k for k, v in mapping.items() if isinstance(v, dict) and not v.get("children")]
        node_id = max(leaves, key=lambda k: _node_time(mapping[k]), default=None)
    chain: list[dict[str, Any]] = []
    seen: set[str] = set()
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        chain.append(node)
        node_id = node.get("parent")
    messages: list[ImportedMessage] = []
    for node in reversed(chain):
        msg = node.get("message")
        if not isinstance(msg, dict):
            continue
        author = msg.get("author") or {}
        role = author.get("role") if isinstance(author, dict) else None
        metadata: dict[str, Any] = msg["metadata"] if isinstance(msg.get("metadata"), dict) else {}
        if role not in ("user", "assistant") or metadata.get("is_visually_hidden_from_conversation"):
            continue
        if msg.get("recipient") not in (None, "all"):  # a call to a tool, not a reply
            continue
        content: dict[str, Any] = msg["content"] if isinstance(msg.get("content"), dict) else {}
        if content.get("content_type") in _SKIP_CONTENT:
            continue
        pieces: list[str] = []
        parts = content.get("parts")
        if isinstance(parts, list):
            for part in parts:
                if isinstance(part, str):
                    if part:
                        pieces.append(part)
                elif isinstance(part, dict):
                    pieces.append(_placeholder(part))
        elif isinstance(content.get("text"), str):
            pieces.append(content["text"])
        for att in metadata.get("attachments") or []:
            if isinstance(att, dict) and isinstance(att.get("name"), str):
                pieces.append(f"[attachment: {att['name']}]")
        text = "\n".join(pieces).strip()
        if not text:
            continue
        mid = msg.get("id") if isinstance(msg.get("id"), str) else node.get("id")
        messages.append(ImportedMessage(
            source_id=str(mid), role=str(role), content=text, created_at=_from_epoch(msg.get("create_time")),
            model=metadata.get("model_slug") if isinstance(metadata.get("model_slug"), str) else None,
            provider="openai" if role == "assistant" else None))
    model = next((m.model for m in reversed(messages) if m.model), None)
    title = item.get("title") if isinstance(item.get("title"), str) else None
    return ImportedConversation("chatgpt", conv_id, title, _from_epoch(item.get("create_time")), messages,
                                provider="openai", model=model)


def _node_time(node: Any) -> float:
    msg = node.get("message") if isinstance(node, dict) else None
    t = msg.get("create_time") if isinstance(msg, dict) else None
    return float(t) if isinstance(t, int | float) and not isinstance(t, bool) else 0.0


def parse_claude(item: Any) -> ImportedConversation:
    """One conversation of Claude's export: ``chat_messages`` in order, sender human/assistant."""
    if not isinstance(item, dict) or not isinstance(item.get("chat_messages"), list):
        raise ValueError("not a Claude conversation (no chat_messages)")
    conv_id = item.get("uuid")
    if not isinstance(conv_id, str) or not conv_id:
        raise ValueError("a Claude conversation without a uuid")
    messages: list[ImportedMessage] = []
    for i, m in enumerate(item["chat_messages"]):
        if not isinstance(m, dict):
            continue
        role = {"human": "user", "assistant": "assistant"}.get(str(m.get("sender")))
        if role is None:
            continue
        pieces: list[str] = []
        blocks = m.get("content")
        if isinstance(blocks, list) and blocks:
            for b in blocks:
                if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str):
                    if b["text"]:
                        pieces.append(b["text"])
                elif isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result", "thinking"):
                    continue
                elif isinstance(b, dict):
                    pieces.append(_placeholder(b))
        elif isinstance(m.get("text"), str):
            pieces.append(m["text"])
        for key in ("attachments", "files"):
            for att in m.get(key) or []:
                if isinstance(att, dict) and isinstance(att.get("file_name"), str) and att["file_name"]:
                    pieces.append(f"[attachment: {att['file_name']}]")
        text = "\n".join(pieces).strip()
        if not text:
            continue
        mid = m.get("uuid") if isinstance(m.get("uuid"), str) and m.get("uuid") else f"{conv_id}:{i}"
        messages.append(ImportedMessage(str(mid), role, text, _from_iso(m.get("created_at")),
                                        provider="anthropic" if role == "assistant" else None))
    title = item.get("name") if isinstance(item.get("name"), str) else None
    return ImportedConversation("claude", conv_id, title or None, _from_iso(item.get("created_at")), messages,
                                provider="anthropic")


_TAGS = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|br|li|div|h\d|ul|ol|pre|tr)\b[^>]*>", re.IGNORECASE)


def _html_text(fragment: str) -> str:
    text = _BLOCK.sub("\n", fragment)
    text = html.unescape(_TAGS.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_gemini(item: Any) -> ImportedConversation | None:
    """One Google Takeout activity (a prompt and its reply) as a one-turn piece of that day's
    conversation; None for activities of other products or without a prompt.

    Takeout has no conversation ids, so turns are filed per calendar day (UTC): re-importing finds
    the same day and adds only turns it has not seen (keyed by time and prompt)."""
    if not isinstance(item, dict) or not isinstance(item.get("title"), str):
        raise ValueError("not a Takeout activity (no title)")
    header = str(item.get("header") or "")
    products: list[Any] = item["products"] if isinstance(item.get("products"), list) else []
    if not any(p in ("Gemini Apps", "Bard", "Gemini") for p in [header, *products]):
        return None
    title: str = item["title"]
    if not title.startswith("Prompted "):
        return None
    prompt = title[len("Prompted "):].strip()
    when = _from_iso(item.get("time"))
    reply = "\n\n".join(_html_text(h["html"]) for h in item.get("safeHtmlItem") or []
                        if isinstance(h, dict) and isinstance(h.get("html"), str)).strip()
    files = [f for f in item.get("attachedFiles") or [] if isinstance(f, str)]
    if files:
        prompt = "\n".join([prompt, *(f"[attachment: {f}]" for f in files)]).strip()
    if not prompt:
        return None
    key = hashlib.sha1(f"{item.get('time')}|{title}".encode()).hexdigest()[:32]
    messages = [ImportedMessage(f"{key}:q", "user", prompt, when)]
    if reply:
        messages.append(ImportedMessage(f"{key}:a", "assistant", reply, when, provider="gemini"))
    day = when.date().isoformat() if when else "undated"
    return ImportedConversation("gemini", f"day:{day}", f"Gemini — {day}", when, messages, provider="gemini")


def parse_synthbot(item: Any) -> ImportedConversation:
    """One session of our own export (a single-session file or an element of `export --all`)."""
    from synthbot_desktop.services.history_import import validate

    doc = validate(item)
    sess = doc.get("session") or {}
    msgs = doc["messages"]
    source = sess.get("source") if isinstance(sess.get("source"), str) and sess.get("source") else "synthbot"
    source_id = sess.get("source_id") if isinstance(sess.get("source_id"), str) and sess.get("source_id") else None
    if source_id is None:
        first = next((m.get("uid") for m in msgs if m.get("uid")), None)
        source_id = first or hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    messages: list[ImportedMessage] = []
    for i, m in enumerate(msgs):
        extra = {k: m.get(k) for k in ("full_content", "interrupted", "error", "audio_duration_s", "stt_model",
                                        "stt_language", "stt_confidence", "tokens_in", "tokens_out", "timings")
                 if m.get(k) is not None}
        rating = m.get("rating") if isinstance(m.get("rating"), dict) else None
        value = rating.get("rating") if rating else None
        messages.append(ImportedMessage(
            source_id=str(m.get("source_id") or m.get("uid") or f"{source_id}:{i}"), role=m["role"],
            content=m["content"], created_at=_from_iso(m.get("created_at")), model=m.get("model"),
            provider=m.get("provider"), uid=m.get("uid"), extra=extra,
            rating=value if value in (1, -1) else None,
            rating_comment=rating.get("comment") if rating and isinstance(rating.get("comment"), str) else None))
    tags: list[str] = []
    for t in sess.get("tags") or []:
        try:
            tags.append(meta.normalise_tag(str(t)))
        except ValueError:
            continue
    note = sess.get("note") if isinstance(sess.get("note"), str) else None
    return ImportedConversation(str(source), str(source_id), sess.get("title"), _from_iso(sess.get("created_at")), messages,
                                provider=sess.get("provider"), model=sess.get("model"), tags=tags, note=note)


PARSERS: dict[str, Callable[[Any], ImportedConversation | None]] = {
    "chatgpt": parse_chatgpt, "claude": parse_claude, "gemini": parse_gemini, "synthbot": parse_synthbot,
}


# Detection --------------------------------------------------------------------------------------
def detect_item(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    if "mapping" in item:
        return "chatgpt"
    if "chat_messages" in item:
        return "claude"
    if item.get("format") == "synthbot-desktop.session":
        return "synthbot"
    if "header" in item or "products" in item or ("title" in item and "time" in item):
        return "gemini"
    return None


def detect_format(path: Path) -> str:
    """Which export this file is, from its first element (only the first chunk is read)."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            head = fh.read(2048).lstrip()
            if head.startswith("{"):
                return "synthbot"
            fh.seek(0)
            try:
                for item in iter_array(fh):
                    found = detect_item(item)
                    if found:
                        return found
                    break
            except TruncatedFile:
                pass
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    raise UsageError(f"cannot tell which app exported {path.name}", hint="give --format chatgpt|claude|gemini|synthbot")


def files_in(path: Path) -> list[Path]:
    """The export files in a folder (an unpacked ChatGPT/Claude zip or a Takeout tree)."""
    if not path.is_dir():
        return [path]
    wanted = {"conversations.json", "myactivity.json"}
    found = sorted(p for p in path.rglob("*.json") if p.name.lower() in wanted)
    if not found:
        raise UsageError(f"no conversations.json or MyActivity.json under {path}", hint=_HINT)
    return found


# Running an import ------------------------------------------------------------------------------
@dataclass
class ImportProgress:
    """Counts so far; what the CLI prints on stderr and the GUI's progress dialog shows."""

    file: str = ""
    format: str = ""
    bytes_done: int = 0
    bytes_total: int = 0
    conversations: int = 0  # read from the file
    sessions_created: int = 0
    sessions_updated: int = 0
    messages_added: int = 0
    messages_existing: int = 0
    skipped: int = 0  # malformed elements
    ignored: int = 0  # elements of no interest (other Takeout products, empty conversations)
    truncated: bool = False
    session_ids: list[int] = field(default_factory=list)  # created or given new messages
    problems: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0

    def seconds_left(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.fraction <= 0.02 or elapsed < 0.5:
            return None
        return elapsed * (1 - self.fraction) / self.fraction

    def line(self) -> str:
        left = self.seconds_left()
        eta = f", about {left:.0f} s left" if left is not None else ""
        return (f"{self.fraction * 100:3.0f}%  {self.conversations} conversations, {self.messages_added} messages "
                f"added, {self.messages_existing} already there, {self.skipped} skipped{eta}")

    def summary(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "conversations": self.conversations,
                "sessions_created": self.sessions_created, "sessions_updated": self.sessions_updated,
                "messages_added": self.messages_added, "messages_existing": self.messages_existing,
                "skipped": self.skipped, "ignored": self.ignored, "truncated": self.truncated,
                "session_ids": self.session_ids, "problems": self.problems[:20]}


def import_file(db: Any, user_id: int, path: Path, fmt: str | None = None, *,
                on_progress: Callable[[ImportProgress], None] | None = None,
                cancelled: Callable[[], bool] | None = None, progress_every: float = 0.25) -> ImportProgress:
    """Import one export file (blocking: run it in the pool); returns the final counts.

    Written in transactions of ~BATCH_MESSAGES messages, so an interrupted import keeps what it
    stored and a re-run continues (idempotent)."""
    fmt = fmt or detect_format(path)
    if fmt not in PARSERS:
        raise UsageError(f"unknown format {fmt!r}", hint="use " + "|".join(FORMATS))
    prog = ImportProgress(file=str(path), format=fmt)
    try:
        prog.bytes_total = path.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    parser = PARSERS[fmt]
    last_report = 0.0

    def report(force: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if on_progress is not None and (force or now - last_report >= progress_every):
            last_report = now
            on_progress(prog)

    if fmt == "synthbot" and _starts_with_object(path):
        from synthbot_desktop.services.history_import import load_export

        prog.bytes_done = prog.bytes_total
        items: Any = iter([load_export(path)])  # a single-session export: strict, as before
    else:
        items = None
    pending: list[ImportedConversation] = []
    pending_messages = 0

    def flush() -> None:
        nonlocal pending, pending_messages
        if not pending:
            return
        with db.session() as s:
            for stored in meta.store_conversations(s, user_id, pending):
                prog.messages_added += stored.added
                prog.messages_existing += stored.already_there
                if stored.new_session and stored.session_id is not None:
                    prog.sessions_created += 1
                elif stored.added:
                    prog.sessions_updated += 1
                if stored.added and stored.session_id is not None and len(prog.session_ids) < 10_000:
                    prog.session_ids.append(stored.session_id)
        pending, pending_messages = [], 0

    def on_bytes(n: int) -> None:
        prog.bytes_done = min(prog.bytes_total, prog.bytes_done + n)

    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            stream = items if items is not None else iter_array(fh, on_bytes=on_bytes)
            try:
                for item in stream:
                    if cancelled is not None and cancelled():
                        prog.problems.append("cancelled")
                        break
                    prog.conversations += 1
                    try:
                        conv = parser(item)
                    except (ValueError, TypeError, KeyError, AttributeError, UsageError) as exc:
                        prog.skipped += 1
                        if len(prog.problems) < 20:
                            prog.problems.append(f"element {prog.conversations}: {exc}"[:200])
                        continue
                    if conv is None or not conv.messages:
                        prog.ignored += 1
                        continue
                    pending.append(conv)
                    pending_messages += len(conv.messages)
                    if pending_messages >= BATCH_MESSAGES:
                        flush()
                    report()
            except TruncatedFile as exc:
                prog.truncated = True
                prog.skipped += 1
                prog.problems.append(str(exc))
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    flush()
    prog.bytes_done = prog.bytes_total if not prog.truncated else prog.bytes_done
    report(force=True)
    return prog


def _starts_with_object(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            return fh.read(4096).lstrip().startswith("{")
    except OSError:
        return False
