"""One voice turn through the app's own wiring, run as a child process for the SIGKILL test.

``python -m tests.fault.kill_turn`` plans and opens a NEW conversation exactly as ``talk`` does
(services.conversation), then runs one turn whose transcript is given (so no speech model is
loaded) against the fake LLM and fake ElevenLabs the test started (URLs in the environment).
It prints, flushed, one line per event the test needs to judge what a kill may lose:

* ``turn-start``: the engine is open, the turn begins;
* ``durable <usage uid>``: a provider call ended and its usage row is on disk (spool or DB);
* ``flushed``: the whole turn is stored.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.pipeline.ports import Transcription
from synthbot_desktop.pipeline.turn import UserInput
from synthbot_desktop.services.conversation import chat_for, open_conversation, plan_conversation, speech_for


class Announcing:
    """Forwards to the app's recorder and says when a usage row became durable."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def submit(self, unit: Any) -> None:
        self.inner.submit(unit)

    def record_now(self, unit: Any) -> None:
        self.inner.record_now(unit)
        for u in unit.usage:
            print(f"durable {u.uid}", flush=True)


async def run() -> int:
    ctx = AppContext()
    plan = plan_conversation(ctx, provider="ollama", model="m", engine="elevenlabs", voice_id="voice-kill")
    engine = await open_conversation(ctx, plan, chat=chat_for(ctx, plan), speech=speech_for(ctx, plan.voice),
                                     output=None, stt=None, sink=None)
    engine.recorder = Announcing(engine.recorder)
    print("turn-start", flush=True)
    text = "Tell me three short things about the sea."
    await engine.run_turn(UserInput(transcription=Transcription(text, "en", 0.9, 2.0, "fake-whisper"),
                                    stt_latency_ms=12.0, speech_end=time.monotonic()))
    await engine.chat.aclose()
    if engine.speech is not None:
        await engine.speech.aclose()
    ok = ctx.flush()
    print("flushed" if ok else "flush-timeout", flush=True)
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
