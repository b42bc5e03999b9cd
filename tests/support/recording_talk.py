"""A stand-in for the window's talk service that records the intents it is sent (the engine's side
is tested in test_talk_flow): shared by the GUI tests that check window rules without an engine."""

from __future__ import annotations

from typing import Any


class RecordingTalk:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: self.calls.append((name, a or k or None))
