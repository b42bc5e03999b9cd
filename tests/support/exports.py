"""Realistic exports of other apps, built by the tests (shapes as the apps write them in 2024-2026).

ChatGPT ``conversations.json``: a list of conversations, each a ``mapping`` tree of nodes
(``parent``/``children``), the visible branch ending at ``current_node``; regenerations and edits
are sibling branches, the root and system/tool nodes are not shown. Claude: a list with
``chat_messages`` (``sender`` human/assistant, ``content`` blocks, ``attachments``/``files``).
Google Takeout ``My Activity/Gemini Apps/MyActivity.json``: one entry per prompt, newest first.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

_ids = itertools.count(1)


def _nid(prefix: str = "n") -> str:
    return f"{prefix}-{next(_ids):06d}-aaaa-bbbb-cccc"


class ChatGPTConversation:
    """Builds one conversation's mapping tree; ``say`` appends under a parent, returns the node id."""

    def __init__(self, title: str | None, conv_id: str | None = None, create_time: float | None = 1_700_000_000.0):
        self.id = conv_id or _nid("c")
        self.title = title
        self.create_time = create_time
        self.root = _nid()
        self.mapping: dict[str, Any] = {self.root: {"id": self.root, "message": None, "parent": None, "children": []}}
        self.current: str = self.root

    def node(self, parent: str, role: str, parts: list[Any] | None, *, t: float | None = None,
             content_type: str = "text", hidden: bool = False, recipient: str = "all",
             model: str | None = None, attachments: list[dict[str, Any]] | None = None,
             text: str | None = None) -> str:
        nid = _nid()
        content: dict[str, Any] = {"content_type": content_type}
        if parts is not None:
            content["parts"] = parts
        if text is not None:
            content["text"] = text
        metadata: dict[str, Any] = {}
        if hidden:
            metadata["is_visually_hidden_from_conversation"] = True
        if model:
            metadata["model_slug"] = model
        if attachments:
            metadata["attachments"] = attachments
        self.mapping[nid] = {
            "id": nid, "parent": parent, "children": [],
            "message": {"id": nid, "author": {"role": role, "name": None, "metadata": {}},
                        "create_time": t, "update_time": None, "content": content, "status": "finished_successfully",
                        "end_turn": True, "weight": 1.0, "metadata": metadata, "recipient": recipient},
        }
        self.mapping[parent]["children"].append(nid)
        return nid

    def doc(self, current: str | None = None) -> dict[str, Any]:
        return {"title": self.title, "create_time": self.create_time, "update_time": self.create_time,
                "mapping": self.mapping, "moderation_results": [], "current_node": current or self.current,
                "plugin_ids": None, "conversation_id": self.id, "id": self.id, "default_model_slug": "gpt-4o"}


def chatgpt_export() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(export, expectations): branches, regeneration, tool calls, attachments, empty, emoji, no times."""
    t0 = 1_700_000_000.0
    a = ChatGPTConversation("Trip to Lisbon ✈️🇵🇹 — Grüße", create_time=t0)
    sys_ = a.node(a.root, "system", [""], hidden=True)
    ctx = a.node(sys_, "user", None, content_type="user_editable_context", text="I like trains")
    u1 = a.node(ctx, "user", ["Plan two days in Lisbon"], t=t0 + 1)
    a.node(u1, "assistant", ["OLD regenerated answer"], t=t0 + 2, model="gpt-4o")  # regenerated away
    r1 = a.node(u1, "assistant", ["Day 1: Alfama. Day 2: Belém."], t=t0 + 3, model="gpt-4o")
    u2old = a.node(r1, "user", ["EDITED AWAY question"], t=t0 + 4)
    a.node(u2old, "assistant", ["answer to the edited-away question"], t=t0 + 5)
    u2 = a.node(r1, "user", ["What about this photo?", {"content_type": "image_asset_pointer",
                                                       "asset_pointer": "file-service://file-abc", "width": 10}],
                t=t0 + 6, content_type="multimodal_text", attachments=[{"id": "file-abc", "name": "tram.jpg"}])
    call = a.node(u2, "assistant", None, t=t0 + 7, content_type="code", recipient="python",
                  text="print('hidden tool call')")
    tool = a.node(call, "tool", ["tool output"], t=t0 + 8, content_type="execution_output")
    last = a.node(tool, "assistant", ["That is tram 28 🚋."], t=t0 + 9, model="gpt-4o")
    a.current = last

    b = ChatGPTConversation("Empty one", create_time=t0 + 100)  # only the root: nothing to import

    c = ChatGPTConversation(None, create_time=None)  # no title, no timestamps at all
    cu = c.node(c.root, "user", ["日本語のテスト message without time"], t=None)
    c.current = c.node(cu, "assistant", ["はい", ""], t=None)

    d = ChatGPTConversation("No current_node", create_time=t0 + 200)
    du = d.node(d.root, "user", ["first"], t=t0 + 201)
    d.node(du, "assistant", ["older leaf"], t=t0 + 202)
    d.node(du, "assistant", ["newest leaf"], t=t0 + 203)
    d_doc = d.doc()
    d_doc["current_node"] = None

    export = [a.doc(), b.doc(), c.doc(), "not a conversation", {"mapping": "broken"}, d_doc]
    expect = {
        "a": {"id": a.id, "title": "Trip to Lisbon ✈️🇵🇹 — Grüße",
              "contents": ["Plan two days in Lisbon", "Day 1: Alfama. Day 2: Belém.",
                           "What about this photo?\n[image]\n[attachment: tram.jpg]", "That is tram 28 🚋."],
              "roles": ["user", "assistant", "user", "assistant"]},
        "c": {"id": c.id, "contents": ["日本語のテスト message without time", "はい"]},
        "d": {"id": d.id, "contents": ["first", "newest leaf"]},
        "messages": 8, "sessions": 3, "skipped": 2, "ignored": 1,
    }
    return export, expect


def claude_export() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    conv = {
        "uuid": "11111111-2222-3333-4444-555555555555", "name": "Ünïcode 🦀 Rust question",
        "created_at": "2025-03-01T10:00:00.000000Z", "updated_at": "2025-03-01T10:05:00.000000Z",
        "account": {"uuid": "acc"},
        "chat_messages": [
            {"uuid": "m-1", "text": "How do I borrow twice?", "sender": "human",
             "created_at": "2025-03-01T10:00:01.000000Z",
             "content": [{"type": "text", "text": "How do I borrow twice?"}],
             "attachments": [{"file_name": "main.rs", "file_size": 120, "file_type": "rs",
                              "extracted_content": "fn main() {}"}], "files": []},
            {"uuid": "m-2", "text": "Use a shared reference.", "sender": "assistant",
             "created_at": "2025-03-01T10:00:05.000000Z",
             "content": [{"type": "text", "text": "Use a shared reference."},
                         {"type": "tool_use", "name": "x", "input": {}}], "attachments": [], "files": []},
            {"uuid": "m-3", "text": "", "sender": "human", "created_at": None, "content": [],
             "attachments": [], "files": [{"file_name": "diagram.png"}]},
        ],
    }
    empty = {"uuid": "empty-conv", "name": "", "created_at": "2025-03-02T00:00:00Z", "chat_messages": []}
    broken = {"uuid": 42, "chat_messages": []}
    export = [conv, empty, broken]
    expect = {"contents": ["How do I borrow twice?\n[attachment: main.rs]", "Use a shared reference.",
                           "[attachment: diagram.png]"], "messages": 3, "skipped": 1, "ignored": 1}
    return export, expect


def gemini_activity() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    export = [
        {"header": "Gemini Apps", "title": "Prompted What is a quine?", "time": "2025-05-02T09:00:00.123Z",
         "products": ["Gemini Apps"], "activityControls": ["Gemini Apps Activity"],
         "safeHtmlItem": [{"html": "<p>A program that prints <b>itself</b> &amp; nothing else.</p>"}]},
        {"header": "Gemini Apps", "title": "Prompted Say hi 👋", "time": "2025-05-01T08:00:00Z",
         "products": ["Gemini Apps"], "safeHtmlItem": [{"html": "<p>Hi!</p>"}], "attachedFiles": ["cat.png"]},
        {"header": "Gemini Apps", "title": "Used Gemini Apps", "time": "2025-05-01T07:00:00Z",
         "products": ["Gemini Apps"]},
        {"header": "Search", "title": "Searched for weather", "time": "2025-05-01T06:00:00Z", "products": ["Search"]},
        {"header": "Gemini Apps", "time": "2025-05-01T05:00:00Z"},  # malformed: no title
    ]
    expect = {"sessions": 2, "messages": 4, "ignored": 2, "skipped": 1,
              "day2": ["What is a quine?", "A program that prints itself & nothing else."],
              "day1": ["Say hi 👋\n[attachment: cat.png]", "Hi!"]}
    return export, expect


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def big_chatgpt(n_conversations: int, turns: int, *, start: float = 1_600_000_000.0) -> Any:
    """Yield many realistic ChatGPT conversations (for the benchmark and the streaming test)."""
    for i in range(n_conversations):
        conv = ChatGPTConversation(f"Conversation {i} 🧪", conv_id=f"bench-{i:08d}", create_time=start + i)
        parent = conv.root
        for j in range(turns):
            parent = conv.node(parent, "user", [f"Question {j} about topic {i}: " + "lorem ipsum " * 8],
                               t=start + i + j)
            parent = conv.node(parent, "assistant", [f"Answer {j} for {i}. " + "dolor sit amet " * 20],
                               t=start + i + j + 0.5, model="gpt-4o")
        conv.current = parent
        yield conv.doc()


def write_stream(path: Path, docs: Any) -> int:
    """Write an iterable of elements as one JSON list without holding it; returns bytes written."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        for k, d in enumerate(docs):
            fh.write(("," if k else "") + json.dumps(d, ensure_ascii=False))
        fh.write("]")
    return path.stat().st_size
