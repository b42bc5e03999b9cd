"""One way to build a conversation turn engine, for ``talk`` and for the desktop window.

Both front ends used to assemble the engine themselves and had drifted (the window billed every
spoken chunk twice: the ElevenLabs provider wrote a usage row and the turn engine wrote another).
Here the pieces are wired once:

* :func:`plan_conversation` (blocking, reads the DB): provider, model, persona (system prompt,
  temperature, model, voice) and the :class:`VoiceChoice` by the one rule in ``services.voice``;
* :func:`speech_for` / :func:`chat_for`: the providers for a plan. Speech is always built with
  ``record_usage=False`` because the turn engine records the TTS usage of every chunk it speaks;
* :func:`open_session` (async): start (with remembered facts) or resume the session — `chat` too;
* :func:`tools_for`: the tools this conversation offers (``services.tools``);
* :func:`open_conversation` (async, on the engine loop): the session plus a ready
  :class:`TurnEngine` with its tools, on the background recorder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthbot_desktop.errors import AudioError, SynthbotError
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.services.voice import VoiceChoice, elevenlabs_options_for, piper_options_for, resolve_voice

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext
    from synthbot_desktop.llm.base import ChatProvider
    from synthbot_desktop.pipeline.session import ConversationState
    from synthbot_desktop.pipeline.turn import TurnEngine
    from synthbot_desktop.tools.registry import Confirm, ToolRegistry
    from synthbot_desktop.tts.base import SpeechProvider

log = logging.getLogger(__name__)

SPEECH_OFF = "speech is off: replies are shown as text only"


@dataclass
class ConversationPlan:
    """Everything a turn engine is configured from, decided before any provider is built."""

    provider: str
    model: str
    system_prompt: str
    temperature: float
    voice: VoiceChoice
    persona_id: int | None = None


def _persona(ctx: AppContext, persona_id: int) -> Any:
    from synthbot_desktop.storage import personas

    with ctx.db.session() as s:
        return personas.get_persona(s, persona_id)


def plan_conversation(ctx: AppContext, *, provider: str | None = None, model: str | None = None,
                      voice: VoiceChoice | None = None, engine: str | None = None, voice_id: str | None = None,
                      persona_id: int | None = None) -> ConversationPlan:
    """Settings < persona < explicit arguments (blocking: reads the persona and voice preferences)."""
    from synthbot_desktop.llm.registry import default_model

    s = ctx.settings
    provider = provider or s.get_str("llm.provider")
    system_prompt, temperature = s.get_str("llm.system_prompt"), s.get_float("llm.temperature")
    persona_model: str | None = None
    persona_voice: str | None = None
    if persona_id is not None:
        persona = _persona(ctx, persona_id)
        if persona is not None:
            system_prompt = persona.system_prompt
            temperature = persona.temperature if persona.temperature is not None else temperature
            persona_model, persona_voice = persona.model or None, persona.voice_id or None
    chosen = resolve_voice(ctx, explicit=voice, engine=engine, voice_id=voice_id, persona_voice=persona_voice)
    return ConversationPlan(provider=provider, model=model or persona_model or default_model(provider, s),
                            system_prompt=system_prompt, temperature=temperature, voice=chosen, persona_id=persona_id)


def chat_for(ctx: AppContext, plan: ConversationPlan) -> ChatProvider:
    from synthbot_desktop.llm.registry import create_chat_provider

    return create_chat_provider(plan.provider, ctx)


def speech_for(ctx: AppContext, voice: VoiceChoice, *, events: ev.EventSink | None = None,
               metrics_sink: Any = None) -> SpeechProvider:
    """The speech provider for exactly this voice, with the tuning saved for it. No usage sink:
    the turn engine writes one TTS usage row per spoken chunk (see the module docstring)."""
    from synthbot_desktop.tts.registry import create_speech_provider

    if voice.engine == "piper":
        return create_speech_provider("piper", ctx, events=events, record_usage=False,
                                      piper=piper_options_for(ctx, voice.voice_id), metrics_sink=metrics_sink)
    return create_speech_provider("elevenlabs", ctx, events=events, record_usage=False,
                                  options=elevenlabs_options_for(ctx, voice.voice_id), metrics_sink=metrics_sink)


def turn_voice_id(voice: VoiceChoice) -> str | None:
    """What the turn engine sends per request (ElevenLabs only; Piper's voice is its model)."""
    return voice.voice_id if voice.engine == "elevenlabs" else None


async def open_output(ctx: AppContext, factory: Any, sink: ev.EventSink | None) -> Any:
    """The speaker, or None when there is none: a typed turn still answers in text, and the
    person is told once (by the caller's sink) that speech is off."""
    try:
        return await asyncio.to_thread(factory, ctx)
    except (AudioError, OSError) as exc:
        log.info("no speaker: %s", exc)
        if sink is not None:
            message = exc.message if isinstance(exc, SynthbotError) else str(exc)
            sink(ev.ErrorEvent(f"{SPEECH_OFF} ({message})", hint=getattr(exc, "hint", None), kind="audio",
                               action="open_settings:audio"))
        return None


async def open_session(ctx: AppContext, plan: ConversationPlan, *, session_id: int | None = None,
                       tts_engine: str | None = None, voice_id: str | None = None,
                       last_messages: int | None = 200) -> ConversationState:
    """Resume ``session_id`` with its context, or start a new session whose system prompt carries
    the remembered facts (issue #16: memory joins NEW sessions only). `chat`, `talk` and the
    window all open their sessions here."""
    from synthbot_desktop.pipeline.session import resume_session, start_session

    if session_id is not None:
        return await asyncio.to_thread(resume_session, ctx.db, ctx.user_id, session_id, provider=plan.provider,
                                       model=plan.model, system_prompt=plan.system_prompt,
                                       last_messages=last_messages)
    from synthbot_desktop.storage.memory import with_memory

    system_prompt = await asyncio.to_thread(with_memory, ctx.db, ctx.user_id, plan.system_prompt)
    return await asyncio.to_thread(
        start_session, ctx.db, ctx.user_id, provider=plan.provider, model=plan.model, tts_engine=tts_engine,
        voice_id=voice_id, persona_id=plan.persona_id, system_prompt=system_prompt)


def tools_for(ctx: AppContext, *, confirm: Confirm | None = None, on_timer: Callable[[str], None] | None = None,
              mcp: Any = None) -> ToolRegistry | None:
    """The tools this conversation offers (None = switched off); see ``services.tools``."""
    from synthbot_desktop.services.tools import conversation_tools

    return conversation_tools(ctx, confirm=confirm, on_timer=on_timer, mcp=mcp)


async def open_conversation(ctx: AppContext, plan: ConversationPlan, *, chat: ChatProvider,
                            speech: SpeechProvider | None, output: Any, stt: Any, sink: ev.EventSink | None,
                            session_id: int | None = None, confirm: Confirm | None = None,
                            on_timer: Callable[[str], None] | None = None, mcp: Any = None,
                            tools: bool = True) -> TurnEngine:
    """Start (or resume) the session and wire the turn engine (with its tools) to the background
    recorder. ``confirm`` asks the user before a side-effect tool (none: refused unless
    ``tools.auto_confirm``); ``on_timer`` receives fired timers (none: no timer tool)."""
    from synthbot_desktop.pipeline.settings_map import turn_config
    from synthbot_desktop.pipeline.turn import TurnEngine
    from synthbot_desktop.pricing import load_prices

    voice_id = turn_voice_id(plan.voice)
    conv = await open_session(ctx, plan, session_id=session_id, voice_id=voice_id,
                              tts_engine=getattr(speech, "name", plan.voice.engine))
    prices = await asyncio.to_thread(load_prices, ctx.paths.config_dir)
    config = turn_config(ctx.settings, prices=prices, voice_id=voice_id, temperature=plan.temperature)
    recorder = await asyncio.to_thread(lambda: ctx.recorder)  # first use starts the writer thread
    registry = tools_for(ctx, confirm=confirm, on_timer=on_timer, mcp=mcp) if tools else None
    return TurnEngine(conversation=conv, chat=chat, stt=stt, speech=speech, output=output, recorder=recorder,
                      sink=sink, config=config, tools=registry)
