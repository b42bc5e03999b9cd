"""Live captions: PartialTranscript while the user speaks, never stored, never the final transcript."""

from __future__ import annotations

import asyncio

from synthbot_desktop.pipeline.events import Event, FinalTranscript, PartialTranscript
from synthbot_desktop.pipeline.voice_loop import LoopConfig, VoiceLoop
from tests.support.loop_fakes import PushMic, ScriptedEndpointer, feed
from tests.support.turn_fakes import FakeChat, FakeSTT, make


def _run(live: bool) -> tuple[VoiceLoop, list[Event], FakeSTT, list[object]]:
    async def go() -> tuple[VoiceLoop, list[Event], FakeSTT, list[object]]:
        stt = FakeSTT("Set a timer for ten minutes.", delay=0.005)
        engine, _out, rec, events = make(chat=FakeChat(first_delay=0.01), stt=stt)
        mic = PushMic()
        cfg = LoopConfig(headphones=True, live_captions=live, caption_interval_s=0.05, speculative=False)
        loop = VoiceLoop(engine, mic, ScriptedEndpointer({1: ["start"], 60: ["end:19200"]}), config=cfg,
                         sink=events.append)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 59)
        partial_before_end = [e for e in events if isinstance(e, PartialTranscript)]
        await feed(loop, mic, 1, until=lambda: bool(loop.results))
        loop.stop()
        await task
        return loop, partial_before_end, stt, [m for u in rec.units for m in u.messages]

    return asyncio.run(go())


def test_captions_while_speaking_then_the_real_transcript() -> None:
    loop, partials, stt, stored = _run(live=True)
    assert len(partials) >= 2 and loop.captions_sent == len(partials)
    assert all(isinstance(p, PartialTranscript) and p.text == "Set a timer for ten minutes." for p in partials)
    # stored messages come from the final transcription only: one user message, one assistant
    assert [getattr(m, "role", None) for m in stored] == ["user", "assistant"]
    assert stt.calls == loop.captions_sent + 1  # the captions' decodes plus the final one


def test_no_captions_when_off() -> None:
    loop, partials, stt, _ = _run(live=False)
    assert partials == [] and loop.captions_sent == 0 and stt.calls == 1


def test_final_transcript_event_is_not_a_caption() -> None:
    async def go() -> list[Event]:
        engine, _o, _r, events = make(stt=FakeSTT("Hello there.", delay=0.005))
        mic = PushMic()
        loop = VoiceLoop(engine, mic, ScriptedEndpointer({1: ["start"], 4: ["end:960"]}),
                         config=LoopConfig(headphones=True, live_captions=True, caption_interval_s=10),
                         sink=events.append)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 4, until=lambda: bool(loop.results))
        loop.stop()
        await task
        return events
    events = asyncio.run(go())
    assert not any(isinstance(e, PartialTranscript) for e in events)  # too short for a caption
    assert any(isinstance(e, FinalTranscript) for e in events)


def test_a_caption_is_decoded_without_the_earlier_turns_as_prompt() -> None:
    """#12: with the last turns as Whisper's prompt a caption decode could take two decodes or the 20 s
    window, and the final transcription waited behind it; the final decode keeps the context."""
    async def go() -> list[str | None]:
        prompts: list[str | None] = []

        class PromptSTT(FakeSTT):
            def transcribe(self, audio, *, language=None, prompt=None):  # type: ignore[no-untyped-def]
                prompts.append(prompt)
                return super().transcribe(audio, language=language, prompt=prompt)

        stt = PromptSTT("Set a timer for ten minutes.", delay=0.005)
        engine, _out, _rec, events = make(chat=FakeChat(first_delay=0.01), stt=stt)
        from synthbot_desktop.llm.base import ChatMessage

        engine.conversation.history += [ChatMessage("user", "Ten of clubs."), ChatMessage("assistant", "Done.")]
        mic = PushMic()
        cfg = LoopConfig(headphones=True, live_captions=True, caption_interval_s=0.05, speculative=False)
        loop = VoiceLoop(engine, mic, ScriptedEndpointer({1: ["start"], 60: ["end:19200"]}), config=cfg,
                         sink=events.append)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 60, until=lambda: bool(loop.results))
        loop.stop()
        await task
        assert loop.captions_sent >= 1
        return prompts

    prompts = asyncio.run(go())
    *captions, final = prompts
    assert captions and all(p is None for p in captions), captions
    assert final is not None and "Ten of clubs." in final
