"""Which words did the user actually hear? Map seconds of played audio back to chunk text.

When the user interrupts, the stored assistant message must hold what was *said*, not what the
model generated: the model will see it as context next turn, and the history must not claim the
assistant said things nobody heard. Each chunk's audio occupies a span of the output timeline;
a partly played chunk contributes the share of its words proportional to the time played
(speech rate is roughly even within a sentence, which is all the precision a transcript needs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class ChunkSpan:
    text: str
    start_s: float
    end_s: float


@dataclass
class SpokenTimeline:
    """Audio seconds queued per chunk, in playback order."""

    spans: list[ChunkSpan] = field(default_factory=list)
    _open: ChunkSpan | None = None

    @property
    def total_s(self) -> float:
        return self.spans[-1].end_s if self.spans else 0.0

    def begin_chunk(self, text: str) -> None:
        start = self.total_s
        self._open = ChunkSpan(text, start, start)
        self.spans.append(self._open)

    def add_audio(self, seconds: float) -> None:
        if self._open is None:
            raise RuntimeError("add_audio before begin_chunk")
        self._open.end_s += seconds

    def spoken_text(self, played_s: float) -> str:
        """The words heard after ``played_s`` seconds of playback."""
        parts: list[str] = []
        for span in self.spans:
            if played_s >= span.end_s - 1e-6:
                parts.append(span.text)
                continue
            if played_s > span.start_s and span.end_s > span.start_s:
                words = span.text.split(" ") if " " in span.text else list(span.text)  # CJK: characters
                share = (played_s - span.start_s) / (span.end_s - span.start_s)
                n = math.floor(len(words) * share)
                if n:
                    parts.append((" " if " " in span.text else "").join(words[:n]))
            break
        return " ".join(p for p in parts if p)
