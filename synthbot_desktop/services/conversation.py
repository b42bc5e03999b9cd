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
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthbot_desktop.errors import AudioError, ErrorKind, SynthbotError
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.services.voice import VoiceChoice, piper_options_for, resolve_voice, tuned_elevenlabs

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
    from synthbot_desktop.services import features

    s = ctx.settings
    provider = provider or s.get_str("llm.provider")
    features.require(ctx, f"provider.{provider}", f"the {provider} LLM provider")  # issue #18
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
    """The speech provider for exactly this voice, with the tuning saved for it — kept current when
    the person saves new tuning later (``services.voice.TunedSpeech``). No usage sink: the turn
    engine writes one TTS usage row per spoken chunk (see the module docstring)."""
    from synthbot_desktop.tts.registry import create_speech_provider

    if voice.engine == "piper":
        return create_speech_provider("piper", ctx, events=events, record_usage=False,
                                      piper=piper_options_for(ctx, voice.voice_id), metrics_sink=metrics_sink)
    return tuned_elevenlabs(
        ctx, lambda options: create_speech_provider("elevenlabs", ctx, events=events, record_usage=False,
                                                    options=options, metrics_sink=metrics_sink),
        voice.voice_id)


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
            sink(ev.ErrorEvent(f"{SPEECH_OFF} ({message})", hint=getattr(exc, "hint", None), kind=ErrorKind.AUDIO,
                               action="open_settings:audio"))
        return None


async def open_session(ctx: AppContext, plan: ConversationPlan, *, session_id: int | str | None = None,
                       tts_engine: str | None = None, voice_id: str | None = None) -> ConversationState:
    """Resume ``session_id`` (an id, or the uid of a session begun offline) with its context, or
    start a new session whose system prompt carries the remembered facts (issue #16: memory joins
    NEW sessions only, unless an admin turned it off, #18). Nothing is written here: a new session
    is created with its first message (#14), and with the database away the context comes from
    this computer's copy of the conversation."""
    from synthbot_desktop.pipeline.session import start_session

    db = await asyncio.to_thread(ctx.reachable_db)  # None: the server is away, the conversation goes on
    if session_id is not None:
        return await asyncio.to_thread(_resume, ctx, db, session_id, plan)
    system_prompt: str | None = plan.system_prompt
    from synthbot_desktop.services import features

    if db is not None and await asyncio.to_thread(features.enabled, ctx, "feature.memory"):
        from synthbot_desktop.storage.memory import with_memory

        system_prompt = await asyncio.to_thread(with_memory, db, ctx.user_id, plan.system_prompt)
    return start_session(None, None, provider=plan.provider, model=plan.model, tts_engine=tts_engine,
                         voice_id=voice_id, persona_id=plan.persona_id, system_prompt=system_prompt)


def tools_for(ctx: AppContext, *, confirm: Confirm | None = None, on_timer: Callable[[str], None] | None = None,
              mcp: Any = None) -> ToolRegistry | None:
    """The tools this conversation offers (None = switched off); see ``services.tools``."""
    from synthbot_desktop.services.tools import conversation_tools

    return conversation_tools(ctx, confirm=confirm, on_timer=on_timer, mcp=mcp)


async def open_conversation(ctx: AppContext, plan: ConversationPlan, *, chat: ChatProvider,
                            speech: SpeechProvider | None, output: Any, stt: Any, sink: ev.EventSink | None,
                            session_id: int | str | None = None,
                            on_session: Callable[[int], None] | None = None, confirm: Confirm | None = None,
                            on_timer: Callable[[str], None] | None = None, mcp: Any = None,
                            tools: bool = True) -> TurnEngine:
    """Start (or resume) the session and wire the turn engine (with its tools) to the background
    recorder. ``confirm`` asks the user before a side-effect tool (none: refused unless
    ``tools.auto_confirm``); ``on_timer`` receives fired timers (none: no timer tool);
    ``on_session`` hears the id a new session gets when its first message is written."""
    from synthbot_desktop.pipeline.settings_map import turn_config
    from synthbot_desktop.pipeline.turn import TurnEngine
    from synthbot_desktop.pricing import load_prices

    voice_id = turn_voice_id(plan.voice)
    conv = await open_session(ctx, plan, session_id=session_id, voice_id=voice_id,
                              tts_engine=getattr(speech, "name", plan.voice.engine))
    prices = await asyncio.to_thread(load_prices, ctx.paths.config_dir)
    config = turn_config(ctx.settings, prices=prices, voice_id=voice_id, temperature=plan.temperature)
    writer = await asyncio.to_thread(lambda: ctx.writer)  # first use starts the writer thread
    recorder = CachingRecorder(writer, ctx.conversation_cache, conv, ctx=ctx, on_session=on_session)
    registry = tools_for(ctx, confirm=confirm, on_timer=on_timer, mcp=mcp) if tools else None
    return TurnEngine(conversation=conv, chat=chat, stt=stt, speech=speech, output=output, recorder=recorder,
                      sink=sink, config=config, tools=registry)


def _resume(ctx: AppContext, db: Any, key: int | str, plan: ConversationPlan) -> Any:
    """Resume from the database (refreshing the local copy), or from the local copy when the
    server cannot be reached."""
    from synthbot_desktop.errors import DatabaseError
    from synthbot_desktop.pipeline.session import resume_cached, resume_session
    from synthbot_desktop.storage import offline
    from synthbot_desktop.storage.db import is_unreachable

    def cached() -> Any:
        reason = ctx.offline_reason.one_line() if ctx.offline_reason else "the database is unreachable"
        return resume_cached(ctx.conversation_cache, ctx.paths.spool_dir / "pending.jsonl", key,
                             provider=plan.provider, model=plan.model, system_prompt=plan.system_prompt,
                             reason=reason)

    if db is None:
        return cached()
    try:
        sid: int | str | None = key
        if isinstance(key, str):
            with db.session() as s:
                sid = offline.resolve_session_id(s, key, {})
            if sid is None:
                return cached()  # started offline, not in the database yet
        conv = resume_session(db, ctx.user_id, int(sid or 0), provider=plan.provider, model=plan.model,
                              system_prompt=plan.system_prompt)
    except DatabaseError as exc:
        if not is_unreachable(exc):
            raise
        return cached()
    copy = offline.CachedConversation(conv.session_uid or f"id-{conv.session_id}", conv.session_id,
                                      conv.provider, conv.model)
    for uid, msg in zip(conv.history_uids, conv.history, strict=False):
        copy.add(uid, msg.role, msg.content)
    ctx.conversation_cache.save(copy)
    return conv


class CachingRecorder:
    """The recorder, plus this computer's copy of the conversation updated with each finished
    turn: the context a later command needs if the database is unreachable when it starts.

    It also tells the conversation the id its new session got (``on_session``), and, when the
    conversation began offline, looks for the database again in the background (at most one
    try at a time, paced by ``AppContext``), so a long-running window stops spooling once the
    server is back instead of at its next restart."""

    def __init__(self, inner: Any, cache: Any, conversation: Any, *, ctx: AppContext | None = None,
                 on_session: Callable[[int], None] | None = None) -> None:
        self.inner, self.cache, self.conversation = inner, cache, conversation
        self._ctx, self._on_session = ctx, on_session
        self._probing = threading.Lock()
        self._watch(inner)

    def _watch(self, inner: Any) -> None:
        add = getattr(inner, "add_session_listener", None)
        if add is not None:
            add(self._session_written)

    def _session_written(self, uid: str, sid: int) -> None:
        conv = self.conversation
        if conv.session_uid == uid and conv.session_id is None:
            conv.session_id = sid
            if self._on_session is not None:
                self._on_session(sid)

    def _probe(self) -> None:
        """Off the turn's thread: is the database back? Then write through the recorder."""
        from synthbot_desktop.storage.offline import OfflineSpool

        if self._ctx is None or not isinstance(self.inner, OfflineSpool) or not self._probing.acquire(blocking=False):
            return

        def run() -> None:
            try:
                writer = self._ctx.writer if self._ctx is not None else None
                if writer is not None and not isinstance(writer, OfflineSpool):
                    self._watch(writer)
                    self.inner = writer
                    suid = self.conversation.session_uid
                    sid = writer.session_id_for(suid) if suid else None
                    if sid is not None:
                        self._session_written(suid, sid)
            except Exception as exc:  # still offline, or worse: the spool keeps everything
                log.debug("database still unavailable: %s", type(exc).__name__)
            finally:
                self._probing.release()

        threading.Thread(target=run, name="synthbot-db-probe", daemon=True).start()

    def submit(self, unit: Any) -> None:
        self.inner.submit(unit)
        if unit.messages:
            self._remember(unit.messages)
        self._probe()

    def record_now(self, unit: Any) -> None:
        self.inner.record_now(unit)

    def _remember(self, messages: list[Any]) -> None:
        from synthbot_desktop.storage import offline

        conv = self.conversation
        uid = conv.session_uid or messages[0].session_uid
        if not uid:
            return
        copy = self.cache.load(uid) or offline.CachedConversation(uid, conv.session_id, conv.provider, conv.model)
        copy.session_id = copy.session_id or conv.session_id or self.inner.session_id_for(uid)
        for m in messages:
            if m.role in ("user", "assistant"):
                copy.add(m.uid, m.role, m.content)
        self.cache.save(copy)

    def __getattr__(self, name: str) -> Any:  # flush, close, spooled_count, ...
        return getattr(self.inner, name)
