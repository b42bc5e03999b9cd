"""A tiny HTTP/1.1 server on 127.0.0.1 for contract tests and benchmarks.

Providers are faked by replaying their real wire formats: status codes, headers, JSON error
bodies, SSE/NDJSON streams sent chunk by chunk with delays, and connections cut mid-stream.
Routes are plain functions, so each test states exactly what the "provider" does.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


Chunk = bytes | float  # a float is a pause in seconds between chunks


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[Chunk] = b""
    #: stop after the body's chunks without the terminating chunk: a mid-stream disconnect
    cut: bool = False

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        h = {"content-type": "application/json"}
        h.update(headers or {})
        return cls(status, h, json.dumps(data).encode())

    @classmethod
    def raw_json(cls, text: str | bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        h = {"content-type": "application/json"}
        h.update(headers or {})
        return cls(status, h, text.encode() if isinstance(text, str) else text)


Handler = Callable[[Request], Response]


class FakeServer:
    """Threaded server; register routes with :meth:`route`; every request is recorded."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(req)
                handler = server._find(req)
                if handler is None:
                    resp = Response.json({"error": {"message": f"no route {req.method} {req.path}"}}, 404)
                else:
                    try:
                        resp = handler(req)
                    except Exception as exc:  # a broken test route answers 500, visibly
                        resp = Response.json({"error": {"message": f"fake server bug: {exc!r}"}}, 500)
                self._send(resp)

            def _send(self, resp: Response) -> None:
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                if isinstance(resp.body, bytes | bytearray):
                    self.send_header("content-length", str(len(resp.body)))
                    self.end_headers()
                    self.wfile.write(resp.body)
                    self.wfile.flush()
                    return
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                try:
                    for chunk in resp.body:
                        if isinstance(chunk, float | int) and not isinstance(chunk, bool):
                            time.sleep(float(chunk))
                            continue
                        if not chunk:
                            continue
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                    if resp.cut:
                        self.close_connection = True
                        return
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client cancelled: that is allowed

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                import sys

                exc = sys.exc_info()[1]
                if isinstance(exc, ConnectionError | TimeoutError):
                    return  # a client dropping a kept-alive or cancelled connection is normal
                super().handle_error(request, client_address)

        self._httpd = _Server((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def _find(self, req: Request) -> Handler | None:
        for method, pattern, handler in reversed(self.routes):
            m = pattern.fullmatch(req.path)
            if m and method in (req.method, "*"):
                req.match = m
                return handler
        return None

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def deco(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern), handler))
            return handler

        return deco

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sse(events: Iterable[dict[str, Any] | str], *, event_names: Iterable[str | None] | None = None,
        delay: float = 0.0) -> list[Chunk]:
    """Encode events as SSE frames (``data: ...\\n\\n``), optionally named and paced."""
    names = list(event_names) if event_names is not None else None
    out: list[Chunk] = []
    for i, ev in enumerate(events):
        data = ev if isinstance(ev, str) else json.dumps(ev)
        frame = ""
        if names and names[i]:
            frame += f"event: {names[i]}\n"
        frame += f"data: {data}\n\n"
        if delay and i:
            out.append(delay)
        out.append(frame.encode())
    return out
