"""Every provider fault x every LLM provider through `chat` (issue #14): one redacted `error:` line,
no traceback, and whatever part of the reply arrived is printed and stored.

Faults: 429 with Retry-After, 500, overloaded (529 for Anthropic, 503 for the others), an HTML
502 from a proxy, the connection cut mid-stream, the stream stalling mid-reply, a malformed
frame mid-stream, and the provider's own in-stream error event.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage
from tests.support.fake_http import Chunk, FakeServer, Request, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url, chat_response

KINDS = ["openai", "anthropic", "gemini", "ollama"]
STATUS_FAULTS = ["429", "500", "overloaded", "html502"]
STREAM_FAULTS = ["cut", "stall", "malformed", "error_event", "missing_end", "drip"]
REPLY = "One two three four five six seven eight nine ten."
API_KEY = "sk-matrix-key-0123456789abcdef"


def _error_body(kind: str, status: int, message: str) -> Response:
    if kind == "anthropic":
        etype = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        data: Any = {"type": "error", "error": {"type": etype, "message": message}}
    elif kind == "gemini":
        data = {"error": {"code": status, "message": message,
                          "status": {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")}}
    elif kind == "ollama":
        data = {"error": message}
    else:
        data = {"error": {"message": message, "type": "server_error", "code": None}}
    headers = {"retry-after": "1"} if status == 429 else {}
    return Response.json(data, status=status, headers=headers)


def _frames(kind: str, req: Request) -> tuple[list[Any], dict[str, str]]:
    resp = chat_response(kind, req, REPLY)
    return list(resp.body), resp.headers  # type: ignore[arg-type]


def _bad_frame(kind: str) -> bytes:
    return b"{not json at all\n" if kind == "ollama" else b"data: {not json at all\n\n"


def _error_event(kind: str) -> bytes:
    if kind == "anthropic":
        return b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    if kind == "gemini":
        return b'data: {"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}\r\n\r\n'
    if kind == "ollama":
        return b'{"error":"the model runner stopped"}\n'
    return b'data: {"error":{"message":"The server had an error","type":"server_error"}}\n\n'


def _handler(kind: str, fault: str, release: threading.Event) -> Any:
    def handle(req: Request) -> Response:
        if fault == "429":
            return _error_body(kind, 429, "Rate limit reached, slow down")
        if fault == "500":
            return _error_body(kind, 500, "Internal server error")
        if fault == "overloaded":
            return _error_body(kind, 529 if kind == "anthropic" else 503, "Overloaded")
        if fault == "html502":
            return Response(502, {"content-type": "text/html"},
                            b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
                            b"<hr><center>nginx</center></body></html>")
        frames, headers = _frames(kind, req)
        half = [f for f in frames if isinstance(f, bytes)][: 6 + (3 if kind == "anthropic" else 0)]
        if fault == "cut":
            return Response(200, headers, half, cut=True)
        if fault == "stall":
            def stalled() -> Iterator[bytes]:
                yield from half
                release.wait(15)  # never another byte until the test is over
            return Response(200, headers, stalled())
        if fault == "missing_end":  # a clean close without the provider's last event
            return Response(200, headers, half)
        if fault == "drip":  # keep-alive bytes forever after some text (a proxy holding a stuck stream)
            keep = b"\n" if kind == "ollama" else b": keep-alive\n\n"

            def drip() -> Iterator[Chunk]:
                yield from half
                until = time.monotonic() + 25
                while not release.is_set() and time.monotonic() < until:
                    for b in keep:
                        yield 0.2
                        yield bytes([b])
            return Response(200, headers, drip())
        if fault == "malformed":
            return Response(200, headers, [*half, _bad_frame(kind)])
        return Response(200, headers, [*half, _error_event(kind)])
    return handle


@pytest.mark.parametrize("fault", STATUS_FAULTS + STREAM_FAULTS)
@pytest.mark.parametrize("kind", KINDS)
def test_fault_is_one_line_and_keeps_the_partial_reply(
        kind: str, fault: str, app_env: dict[str, str], memory_keyring: object, tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "m.sqlite3"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv(f"SYNTHBOT_{kind.upper()}_API_KEY", API_KEY)
    monkeypatch.setenv(f"SYNTHBOT_SET__providers__{kind}__timeout_s", "1")
    release = threading.Event()
    with FakeServer() as server:
        server.add(*CHAT_ROUTES[kind], _handler(kind, fault, release))
        monkeypatch.setenv(f"SYNTHBOT_{kind.upper()}_BASE_URL", base_url(kind, server))
        started = time.monotonic()
        try:
            code = main(["chat", "count to ten", "--provider", kind, "--model", "m", "--json"])
        finally:
            release.set()
        elapsed = time.monotonic() - started
    # timeout_s is 1: every fault ends the command within a few seconds (429: Retry-After 1, 2 retries)
    assert elapsed < 12, f"{fault} took {elapsed:.1f} s"
    out = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in out.err and API_KEY not in out.err + out.out
    errors = [ln for ln in out.err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, out.err
    assert "<html" not in out.err.lower() and "{not json" not in out.err
    doc = json.loads(out.out)
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            msgs = list(s.execute(select(ConversationMessage.role, ConversationMessage.content,
                                         ConversationMessage.interrupted).order_by(ConversationMessage.id)))
            usage = list(s.scalars(select(ApiUsageLog.success)))
    finally:
        engine.dispose()
    assert msgs[0][:2] == ("user", "count to ten")  # what the person said is never lost
    assert usage == [False]  # the failed call is still on the bill
    if fault in STREAM_FAULTS:
        partial = doc["reply"]
        assert partial and REPLY.startswith(partial), f"partial reply lost: {partial!r}"
        assert msgs[1][0] == "assistant" and msgs[1][1] == partial and msgs[1][2]  # kept, marked incomplete
    else:
        assert len(msgs) == 1
