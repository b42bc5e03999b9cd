"""Incremental decoders for streamed bodies: SSE (``text/event-stream``) and NDJSON.

Both work on raw byte chunks as they arrive, so a multi-byte character or a line split across
network reads is reassembled before decoding, and a 10 MB body is processed in linear time.
Bytes that are not valid UTF-8 are replaced (U+FFFD) rather than aborting the reply: a single
bad byte from a proxy should not cost the user the whole answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


class LineSplitter:
    """Split a byte stream into lines terminated by LF, CRLF or a lone CR."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[str]:
        """Add ``chunk``; return every complete line (without its terminator)."""
        self._buf += chunk
        out: list[str] = []
        start = 0
        buf = self._buf
        n = len(buf)
        i = 0
        while True:
            lf = buf.find(b"\n", i)
            cr = buf.find(b"\r", i)
            if lf < 0 and cr < 0:
                break
            if cr >= 0 and (lf < 0 or cr < lf):
                if cr + 1 >= n:  # a CR at the end may be the first half of CRLF: wait
                    break
                end, nxt = cr, cr + 2 if buf[cr + 1] == 0x0A else cr + 1
            else:
                end, nxt = lf, lf + 1
            out.append(bytes(buf[start:end]).decode("utf-8", errors="replace"))
            start = i = nxt
        if start:
            del self._buf[:start]
        return out

    def finish(self) -> list[str]:
        """The last line when the body did not end with a terminator."""
        rest = bytes(self._buf).rstrip(b"\r")
        self._buf.clear()
        return [rest.decode("utf-8", errors="replace")] if rest else []


@dataclass(frozen=True)
class SseEvent:
    event: str | None
    data: str


class SseDecoder:
    """The SSE field rules that matter for LLM APIs: ``event``, multi-line ``data``, comments."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def line(self, line: str) -> SseEvent | None:
        """Process one line; return an event when a blank line completes one."""
        if not line:
            if not self._data and self._event is None:
                return None
            ev = SseEvent(self._event, "\n".join(self._data))
            self._event, self._data = None, []
            return ev
        if line.startswith(":"):
            return None  # comment / keep-alive
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # id / retry / unknown fields: not used by these APIs
        return None

    def finish(self) -> SseEvent | None:
        """An event left open when the stream closed without its blank line."""
        if self._data:
            ev = SseEvent(self._event, "\n".join(self._data))
            self._event, self._data = None, []
            return ev
        return None


async def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[SseEvent]:
    splitter, decoder = LineSplitter(), SseDecoder()
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            ev = decoder.line(line)
            if ev is not None:
                yield ev
    for line in splitter.finish():
        ev = decoder.line(line)
        if ev is not None:
            yield ev
    last = decoder.finish()
    if last is not None:
        yield last


async def iter_ndjson_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    splitter = LineSplitter()
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            if line.strip():
                yield line
    for line in splitter.finish():
        if line.strip():
            yield line
