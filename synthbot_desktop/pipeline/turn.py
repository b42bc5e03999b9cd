"""One voice turn, pipelined: transcript -> LLM stream -> chunks -> TTS per chunk -> playback.

Three coroutines joined by queues do the work, so nothing waits for more than it needs:
the LLM stream keeps flowing into the chunker while chunk *n* is synthesised, and chunk *n+1*
is synthesised while chunk *n* plays. A turn is one cancellable unit: barge-in, a newer turn,
or closing the app stop the speaker first (within one audio block), then cancel the LLM and TTS
streams, and the turn is still stored — with the words actually spoken and ``interrupted``.

Storage never sits in the turn's path: the finished turn (user message, assistant message, STT,
LLM and TTS usage) is handed to the background recorder as one ``WriteUnit``, so the database
holds either the whole turn or none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from synthbot_desktop import language as lang
from synthbot_desktop.errors import ErrorKind, ProviderError, SynthbotError
from synthbot_desktop.llm.base import ChatMessage, ChatProvider, ChatUsage
from synthbot_desktop.llm.turn import ChatResult
from synthbot_desktop.pipeline.chunker import SentenceChunker, SpeechChunk
from synthbot_desktop.pipeline.events import (
    AssistantDelta,
    AssistantDone,
    ErrorEvent,
    Event,
    EventSink,
    FinalTranscript,
    PlaybackProgress,
    StateChanged,
    ToolCalled,
    ToolDone,
    ToolRunning,
    TurnRetracted,
    TurnState,
    TurnTimings,
)
from synthbot_desktop.pipeline.ports import AudioOutput, Samples, SpeechToText, Transcription, pcm_seconds
from synthbot_desktop.pipeline.session import ConversationState
from synthbot_desktop.pipeline.spoken import SpokenTimeline
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord, SessionSpec, UsageRecord
from synthbot_desktop.tools.loop import FILLER_TEXT, ToolEvent, ToolFiller, ToolFinished, ToolStarted, run_tool_loop
from synthbot_desktop.tools.records import ToolTranscript
from synthbot_desktop.tools.registry import ToolRegistry
from synthbot_desktop.tts.base import AudioChunk, SpeechProvider, SpeechRequest, VoiceSettings
from synthbot_desktop.tts.fallback import OfflineLanguageError

log = logging.getLogger(__name__)

STT_PROVIDER = "local-whisper"
FILLER_INDEX = -1  # SpeechChunk.index of the spoken tool filler ("One moment.")
LOCAL_PROVIDERS = frozenset({STT_PROVIDER, "piper"})


def _speech_engine_and_model(speech: Any, configured_model: str | None) -> tuple[str, str | None]:
    """Who actually spoke the last chunk (a fallback wrapper may have switched to Piper) and with
    which model, for the usage row and its price."""
    engine = str(getattr(speech, "last_engine", None) or getattr(speech, "name", "tts"))
    if engine == "piper":
        piper = getattr(speech, "secondary", None) if getattr(speech, "name", None) != "piper" else speech
        return engine, str(getattr(getattr(piper, "options", None), "voice", None) or "piper")
    primary = getattr(speech, "primary", speech)
    return engine, configured_model or getattr(getattr(primary, "options", None), "model_id", None)


def _offline_voice_language(speech: Any) -> str | None:
    """The language of the Piper voice when Piper itself is the speech engine (else None): the
    bundled voice is English-only, so a reply in another language must not be read with it."""
    if speech is None or getattr(speech, "name", None) != "piper":
        return None
    return lang.piper_voice_language(getattr(getattr(speech, "options", None), "voice", None))


TIMING_KEYS = ("speech_end", "endpoint_detected", "transcript_ready", "first_token", "first_chunk",
               "first_audio_byte", "first_sample_played", "llm_done", "done")


class SamplingChoice(Protocol):
    """One turn's LLM sampling picked outside the pipeline (enhanced mode: randomness/enhanced.py)."""

    seed: int | None
    temperature: float
    record: dict[str, Any]  # stored on the assistant message as timings["randomness"]
    notice: str | None  # one line for the user (e.g. the pool was empty and the CSPRNG stood in)


class Sampler(Protocol):
    """Picks a turn's seed and temperature; ``consumer`` is the user message uid (as `chat` uses).

    Called on a worker thread (it may read the database: one indexed read, a few ms)."""

    def __call__(self, consumer: str, temperature: float | None) -> SamplingChoice: ...


class RecordSink(Protocol):
    """Where finished turns go (``storage.recorder.Recorder`` in the app)."""

    def submit(self, unit: WriteUnit) -> None: ...


@dataclass
class TurnConfig:
    """Per-conversation knobs the engine reads on every turn."""

    language: str | None = None
    use_context_prompt: bool = True
    temperature: float | None = None
    max_tokens: int | None = None
    context_chars: int = 32000
    first_chunk_min_chars: int = 12
    chunk_max_chars: int = 250
    first_chunk_max_words: int = 0  # first piece may end at a word after this many (0 = clause only)
    voice_id: str | None = None
    tts_model_id: str | None = None
    voice_settings: VoiceSettings = field(default_factory=VoiceSettings)
    progress_interval_s: float = 0.1
    prices: Any = None  # pricing.PriceTable: LLM cost per call (None = cost unknown)
    max_tool_rounds: int = 4  # tool rounds per turn before the model must answer in text
    filler_after_s: float = 1.0  # a tool slower than this gets "One moment." and a ToolRunning event


@dataclass
class UserInput:
    """An utterance (16 kHz mono float32) or typed text, with when its speech ended."""

    audio: Samples | None = None
    text: str | None = None
    speech_end: float | None = None  # monotonic time of the last speech sample
    endpoint_detected: float | None = None  # monotonic time the silence ended the utterance
    transcription: Transcription | None = None  # already transcribed (e.g. early, on a short pause)
    stt_latency_ms: float | None = None  # what that transcription cost (for its usage row)
    #: a speculative turn (started at a short pause, before the silence confirmed the end of the
    #: utterance): it may think and synthesise, but plays and stores nothing until this is set;
    #: if the user goes on talking it is withdrawn (``TurnEngine.retract``) and never heard
    commit: asyncio.Event | None = None


@dataclass
class TurnResult:
    turn_id: str
    transcript: str
    reply: str  # what was spoken (all of it unless interrupted)
    full_reply: str  # what the model generated
    interrupted: bool = False
    error: str | None = None
    tts_error: str | None = None
    skipped: bool = False  # nothing was heard: no LLM call, nothing stored but STT usage
    timings: dict[str, float] = field(default_factory=dict)  # ms since speech end
    user_uid: str | None = None
    assistant_uid: str | None = None
    usage: list[UsageRecord] = field(default_factory=list)
    audio_seconds: float = 0.0
    retracted: bool = False  # withdrawn before any reply was heard (the user kept talking): no messages stored
    randomness: dict[str, Any] | None = None  # enhanced mode: the seed/temperature record of this turn
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # [{name, arguments, result, is_error}]


class _Interrupted(Exception):
    pass


class TurnEngine:
    """Runs turns of one conversation, one at a time; no Qt, only asyncio."""

    def __init__(self, *, conversation: ConversationState, chat: ChatProvider, stt: SpeechToText | None,
                 speech: SpeechProvider | None, output: AudioOutput | None, recorder: RecordSink | None,
                 sink: EventSink | None = None, config: TurnConfig | None = None,
                 clock: Callable[[], float] = time.monotonic, tools: ToolRegistry | None = None) -> None:
        self.conversation = conversation
        self.chat = chat
        self.stt = stt
        self.speech = speech
        self.output = output
        self.recorder = recorder
        self.sink = sink
        self.config = config or TurnConfig()
        self.clock = clock
        self.tools = tools  # None (or no tool available) = plain replies, one LLM call a turn
        self._lock = asyncio.Lock()
        self._current: asyncio.Task[TurnResult] | None = None
        self._interrupt: asyncio.Event | None = None
        self._speaking = False
        self._turn: _Turn | None = None
        self._offline_language_noted = False  # "only English speech offline" is said once per session
        self.sampler: Sampler | None = None  # enhanced mode: pooled randomness picks seed + temperature

    # Public API ---------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._current is not None and not self._current.done()

    @property
    def speaking(self) -> bool:
        """True while reply audio is queued or playing (barge-in is armed)."""
        return self._speaking

    async def warm(self) -> None:
        """Connect the LLM and TTS clients now (issue #12): providers with a ``warm()`` open their
        keep-alive connection, so the coming turn pays no connection set-up. Never raises."""
        for provider in (self.chat, self.speech):
            warm = getattr(provider, "warm", None)
            if warm is not None:
                try:
                    await warm()
                except Exception as exc:  # a warm-up is an optimisation: the turn reports real errors
                    log.debug("warm-up of %s failed: %s", type(provider).__name__, type(exc).__name__)

    def start_turn(self, user: UserInput) -> asyncio.Task[TurnResult]:
        """Start a turn; a turn still running is interrupted first (two turns never overlap)."""
        self.interrupt()
        task = asyncio.get_running_loop().create_task(self._serialised(user))
        self._current = task
        return task

    async def run_turn(self, user: UserInput) -> TurnResult:
        return await self.start_turn(user)

    def interrupt(self) -> bool:
        """Barge-in / push-to-talk / cancel: silence now, then wind the turn down (it is still stored)."""
        if not self.busy:
            return False
        if self.output is not None:
            self.output.stop()
        if self._interrupt is not None:
            self._interrupt.set()
        return True

    @property
    def reply_heard(self) -> bool:
        """True once the running turn's first reply sample has reached the speaker."""
        turn = self._turn
        if not self.busy or turn is None or not self._speaking or self.output is None:
            return False
        first = self.output.first_sample_time()
        return first is not None and first <= self.clock()

    def stt_prompt(self, earlier: str = "") -> str | None:
        """Whisper's prompt: the last turns (if ``use_context_prompt``) plus ``earlier`` words of this
        turn, so a piece transcribed after a pause continues the sentence instead of starting anew."""
        recent = [m.content for m in self.conversation.history[-4:]] if self.config.use_context_prompt else []
        return " ".join([*recent, earlier]).strip()[-600:] or None

    def retract(self, onset: float | None = None) -> bool:
        """The user is still talking: withdraw the running turn if none of its reply was heard yet.

        Nothing is stored as a message (the words return in the merged turn that follows); usage
        really incurred (the transcription, the tokens streamed so far) is still recorded. Returns
        False when there is nothing to withdraw or the reply is already audible (that is a barge-in).
        ``onset`` (monotonic) is when the user's speech really began: speech that began before the
        reply's first sample is the user going on, even if confirming it took until after (the
        raised threshold during playback delays the confirmation, not the onset).
        """
        turn = self._turn
        if not self.busy or turn is None:
            return False
        if self.reply_heard:
            first = self.output.first_sample_time() if self.output is not None else None
            if onset is None or first is None or onset >= first:
                return False
        turn.retracted = True
        self.interrupt()
        return True

    async def aclose(self) -> None:
        """App closing mid-turn: stop, store what was said, and wait for that to be handed off."""
        self.interrupt()
        if self._current is not None:
            with contextlib.suppress(BaseException):
                await self._current

    # Turn -----------------------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self.sink is None:
            return
        try:
            self.sink(event)
        except Exception:  # a broken front end must not break the turn
            log.exception("event sink failed")

    async def _serialised(self, user: UserInput) -> TurnResult:
        async with self._lock:
            self._interrupt = asyncio.Event()
            self._turn = _Turn(self, user, self._interrupt)
            return await self._turn.run()


class _Turn:
    """State of one turn (kept off the engine so racing turns cannot mix their data)."""

    def __init__(self, engine: TurnEngine, user: UserInput, interrupt: asyncio.Event) -> None:
        self.e = engine
        self.user = user
        self.interrupt = interrupt
        self.turn_id = uuid.uuid4().hex[:12]
        self.t0 = user.speech_end if user.speech_end is not None else engine.clock()
        self.marks: dict[str, float] = {"speech_end": self.t0}
        if user.endpoint_detected is not None:
            self.marks["endpoint_detected"] = user.endpoint_detected
        self.full_reply = ""
        self.chunks: list[SpeechChunk] = []
        self.timeline = SpokenTimeline()
        self.chat_usages: list[ChatUsage] = []  # one per LLM round (a tool round adds one)
        self.llm_finished = False  # the tool loop returned (else the last round has no usage)
        self.round_started = 0.0
        self.tool_log = ToolTranscript(engine.conversation.session_id)
        self._round_break = False  # the next text starts a new LLM round (after a tool round)
        self._round_open = True  # an LLM call is in flight (cut off = a usage row without counts)
        self._tools_pending = 0
        self.llm_error: ProviderError | SynthbotError | None = None
        self.tts_error: SynthbotError | None = None
        self.usage: list[UsageRecord] = []
        conv = engine.conversation
        # A new session's first message is named by the session uid (storage.offline).
        self.user_uid = conv.session_uid if conv.session_pending and conv.session_uid else str(uuid.uuid4())
        self.assistant_uid = str(uuid.uuid4())
        self.interrupted = False
        self.retracted = False
        self.llm_started = 0.0
        self.language: str | None = None  # the user's language for this turn (detected or fixed)
        self.randomness: dict[str, Any] | None = None  # enhanced mode's record, stored on the assistant message
        # Usage rows already made durable when their call ended (usage uid -> message uid): the
        # end-of-turn unit only links them, so a crash mid-turn loses at most the call in flight.
        self.recorded: dict[str, str] = {}
        self._llm_recorded = False

    def _session_ref(self) -> tuple[int | None, str]:
        """(id, uid) of this turn's session; a new session is named by this turn's user message."""
        conv = self.e.conversation
        return conv.session_id, conv.session_uid or self.user_uid

    def _record_call(self, record: UsageRecord) -> None:
        """One provider call ended: keep its row for the result, and make it durable now."""
        self.usage.append(record)
        now = getattr(self.e.recorder, "record_now", None)
        if now is None:
            return
        try:
            now(WriteUnit(usage=[record]))
            self.recorded[record.uid] = record.message_uid or ""
        except OSError as exc:  # the disk refused: the row still goes with the end-of-turn unit
            log.warning("could not record usage now: %s", exc)

    def _record_llm(self) -> None:
        """The LLM calls are over (every tool round's included): their rows become durable now."""
        if not self._llm_recorded:
            self._llm_recorded = True
            for row in self._llm_usages():
                self._record_call(row)

    def _unrecorded(self) -> list[UsageRecord]:
        return [u for u in self.usage if u.uid not in self.recorded]

    def mark(self, key: str) -> None:
        self.marks.setdefault(key, self.e.clock())

    def timings_ms(self) -> dict[str, float]:
        return {k: round((v - self.t0) * 1000.0, 1) for k, v in self.marks.items()}

    async def run(self) -> TurnResult:
        e = self.e
        transcription = await self._transcribe()
        text = transcription.text.strip()
        if not text:
            e._emit(StateChanged(TurnState.IDLE, self.turn_id))
            if self._unrecorded() and e.recorder is not None:
                e.recorder.submit(WriteUnit(usage=self._unrecorded()))
            return TurnResult(self.turn_id, "", "", "", skipped=True, timings=self.timings_ms(), usage=self.usage)
        e._emit(FinalTranscript(text, self.turn_id, transcription.language, transcription.confidence))
        self.language = lang.base_language(transcription.language or e.config.language)
        if self.interrupt.is_set():  # cancelled while transcribing: keep what was said, ask nothing
            self.interrupted = True
            return self._finish(transcription, text)
        e._emit(StateChanged(TurnState.THINKING, self.turn_id))
        messages = [*e.conversation.context(e.config.context_chars), ChatMessage("user", text)]

        chunk_q: asyncio.Queue[SpeechChunk | None] = asyncio.Queue()
        audio_q: asyncio.Queue[tuple[SpeechChunk, AudioChunk | None] | None] = asyncio.Queue()
        tasks = [asyncio.create_task(self._llm(messages, chunk_q), name="llm"),
                 asyncio.create_task(self._synthesise(chunk_q, audio_q), name="tts"),
                 asyncio.create_task(self._play(audio_q), name="play")]
        waiter = asyncio.create_task(self.interrupt.wait())
        try:
            done, _ = await asyncio.wait([tasks[2], waiter], return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                self.interrupted = True
        except asyncio.CancelledError:  # the caller (app shutdown) cancelled us: still store the turn
            self.interrupted = True
            if e.output is not None:
                e.output.stop()
            self._finish(transcription, text)
            raise
        finally:
            waiter.cancel()
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            e._speaking = False
        if not self.interrupted and not await self._committed():
            self.interrupted = True
        return self._finish(transcription, text)

    async def _committed(self) -> bool:
        """For a speculative turn, wait until the silence confirms it (True) or it is withdrawn
        (False). A reply that failed or had no audio must not be stored before the user is done."""
        gate = self.user.commit
        if gate is None or gate.is_set():
            return True
        waits = [asyncio.create_task(gate.wait()), asyncio.create_task(self.interrupt.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        self._note_commit()
        return gate.is_set() and not self.interrupt.is_set()

    def _note_commit(self) -> None:
        if self.user.endpoint_detected is not None:
            self.marks["endpoint_detected"] = self.user.endpoint_detected

    # Stages -----------------------------------------------------------------------------------------
    async def _transcribe(self) -> Transcription:
        e, user = self.e, self.user
        if user.transcription is not None:
            self.mark("transcript_ready")
            self._stt_usage(user.transcription, user.stt_latency_ms)
            return user.transcription
        if user.text is not None:
            self.mark("transcript_ready")
            return Transcription(user.text, model="typed")
        if user.audio is None or e.stt is None:
            raise SynthbotError("a turn needs either audio with a speech-to-text engine, or text")
        e._emit(StateChanged(TurnState.TRANSCRIBING, self.turn_id))
        started = e.clock()
        prompt = e.stt_prompt()
        stt = e.stt
        audio = user.audio
        result = await asyncio.to_thread(stt.transcribe, audio, language=e.config.language, prompt=prompt)
        self.mark("transcript_ready")
        self._stt_usage(result, (e.clock() - started) * 1000.0)
        return result

    def _stt_usage(self, t: Transcription, latency_ms: float | None) -> None:
        sid, suid = self._session_ref()
        self._record_call(UsageRecord(
            provider=STT_PROVIDER, endpoint="transcribe", model=t.model, audio_seconds=round(t.audio_seconds, 3),
            latency_ms=latency_ms, session_id=sid, session_uid=suid, message_uid=self.user_uid,
            cost_usd=Decimal(0)))  # local transcription costs nothing (a known zero, not "unknown")

    async def _llm(self, messages: list[ChatMessage], chunk_q: asyncio.Queue[SpeechChunk | None]) -> None:
        """The reply, through the tool loop: text of every round streams into the chunker; a tool
        round flushes what was said before it (spoken while the tool runs), a slow tool gets the
        filler; every round's usage and every call/result is kept for :meth:`_finish`."""
        e = self.e
        cfg = e.config
        chunker = SentenceChunker(cfg.first_chunk_min_chars, cfg.chunk_max_chars,
                                  first_max_words=cfg.first_chunk_max_words)
        temperature = await self._sampled_temperature()
        self.llm_started = self.round_started = e.clock()

        def on_delta(text: str) -> None:
            if not text:
                return
            self.mark("first_token")
            if self.full_reply and self._round_break:
                self.full_reply += "" if self.full_reply[-1].isspace() or text[0].isspace() else " "
            self._round_break = False
            self.full_reply += text
            e._emit(AssistantDelta(text, self.turn_id))
            for chunk in chunker.feed(text):
                self._queue_chunk(chunk, chunk_q)

        def on_round(result: ChatResult) -> None:
            self.chat_usages.append(result.usage)
            self.round_started = e.clock()
            self._round_break = True
            self._round_open = False  # until its tools are done, no LLM call is in flight
            self._tools_pending = len(result.tool_calls)
            if result.tool_calls:
                for chunk in chunker.flush():  # "Let me check." is heard while the tool runs
                    self._queue_chunk(chunk, chunk_q)

        def on_tool(event: ToolEvent) -> None:
            if isinstance(event, ToolStarted):
                e._emit(ToolCalled(event.name, self.turn_id, event.call_id, self.tool_log.arguments_of(event.call_id)))
            elif isinstance(event, ToolFiller):
                e._emit(ToolRunning(event.name, self.turn_id))
                if e.speech is not None:
                    chunk_q.put_nowait(SpeechChunk(event.text or FILLER_TEXT, "", FILLER_INDEX))
            elif isinstance(event, ToolFinished):
                self._tools_pending -= 1
                if self._tools_pending <= 0:
                    self._round_open = True  # the next LLM round starts now
                    self.round_started = e.clock()

        def on_message(message: ChatMessage) -> None:
            """Kept for storage; a tool's result also tells the window (ToolDone, with what is
            stored: redacted arguments and result), right after the tool finished."""
            self.tool_log.add(message)
            if message.role == "tool" and self.tool_log.records:
                stored = self.tool_log.records[-1]
                info = (stored.timings or {}).get("tool", {})
                e._emit(ToolDone(str(info.get("name") or message.name or "?"), self.turn_id,
                                 message.tool_call_id or "", message.is_error,
                                 str(info.get("arguments") or ""), stored.content))

        system = (e.conversation.system_prompt if lang.is_english(self.language)
                  else lang.with_language(e.conversation.system_prompt, self.language))
        try:
            result = await run_tool_loop(
                e.chat, messages, e.conversation.model, e.tools or ToolRegistry(), system=system,
                temperature=temperature, max_tokens=cfg.max_tokens, max_rounds=cfg.max_tool_rounds,
                on_delta=on_delta, on_event=on_tool, filler_after_s=cfg.filler_after_s,
                on_usage=on_round, on_message=on_message)
            self.llm_finished = True
            if result.final.error is not None:  # the stream broke mid-reply: keep and speak what came
                raise result.final.error
        except SynthbotError as exc:  # mid-turn failure: keep and speak what came, tell the user
            self.llm_error = exc
            e._emit(ErrorEvent(exc.message, exc.hint,
                               ErrorKind(str(exc.kind)) if isinstance(exc, ProviderError) else ErrorKind.LLM))
        except Exception as exc:  # a provider bug must not lose the turn either
            log.exception("LLM stream failed")
            self.llm_error = SynthbotError(f"the reply stream broke off: {type(exc).__name__}")
            e._emit(ErrorEvent(self.llm_error.message, kind=ErrorKind.LLM))
        finally:
            self.mark("llm_done")
            self._record_llm()  # the paid call is over: its row is durable before speech goes on
            for chunk in chunker.flush():
                self._queue_chunk(chunk, chunk_q)
            chunk_q.put_nowait(None)

    async def _sampled_temperature(self) -> float | None:
        """Enhanced mode: let the sampler pick this turn's seed and temperature (else the config's).

        The provider reads ``sampling_seed`` when it builds the request (OpenAI, Gemini, Ollama),
        as `chat --mode enhanced` sets it. A failing sampler never costs the turn: normal sampling.
        """
        e = self.e
        if getattr(e.chat, "sampling_seed", None) is not None:
            e.chat.sampling_seed = None  # type: ignore[attr-defined]  # an earlier enhanced turn's seed never sticks
        if e.sampler is None:
            return e.config.temperature
        try:
            choice = await asyncio.to_thread(e.sampler, self.user_uid, e.config.temperature)
        except Exception as exc:
            log.warning("enhanced mode: no sampling choice (%s); normal sampling for this turn", type(exc).__name__)
            return e.config.temperature
        e.chat.sampling_seed = choice.seed  # type: ignore[attr-defined]
        self.randomness = dict(choice.record)
        if choice.notice:
            e._emit(ErrorEvent(choice.notice, kind=ErrorKind.RANDOMNESS))
        return choice.temperature

    def _queue_chunk(self, chunk: SpeechChunk, chunk_q: asyncio.Queue[SpeechChunk | None]) -> None:
        self.mark("first_chunk")
        self.chunks.append(chunk)
        chunk_q.put_nowait(chunk)

    async def _synthesise(self, chunk_q: asyncio.Queue[SpeechChunk | None],
                          audio_q: asyncio.Queue[tuple[SpeechChunk, AudioChunk | None] | None]) -> None:
        e = self.e
        cfg = e.config
        previous: str | None = None
        model_id = lang.tts_model_for(self.language, cfg.tts_model_id)  # multilingual when not English
        voice_language = _offline_voice_language(e.speech)
        text_only = voice_language is not None and not lang.is_english(self.language) \
            and voice_language != self.language
        if text_only:
            self._note_offline_language()
        try:
            while (chunk := await chunk_q.get()) is not None:
                if e.speech is None or self.tts_error is not None or text_only:
                    audio_q.put_nowait((chunk, None))  # text-only: still shown and stored
                    continue
                started = e.clock()
                ttfb: float | None = None
                seconds = 0.0
                request = SpeechRequest(chunk.text, voice_id=cfg.voice_id, model_id=model_id,
                                        settings=cfg.voice_settings, previous_text=previous,
                                        language=self.language)
                try:
                    async for audio in e.speech.stream(request):
                        if not audio.pcm:
                            continue
                        if ttfb is None:
                            ttfb = (e.clock() - started) * 1000.0
                            self.mark("first_audio_byte")
                        seconds += pcm_seconds(len(audio.pcm), audio.format)
                        audio_q.put_nowait((chunk, audio))
                    self._tts_usage(chunk, started, ttfb, seconds, None, model_id)
                except OfflineLanguageError as exc:
                    # ElevenLabs failed and the offline voice cannot speak this language: the rest
                    # of the reply stays text (never read by the English voice), said once per session.
                    text_only = True
                    self._tts_usage(chunk, started, ttfb, seconds, exc, model_id)
                    self._note_offline_language(exc.reason.message if exc.reason else None,
                                                exc.hint or None)
                    audio_q.put_nowait((chunk, None))
                except SynthbotError as exc:
                    self.tts_error = exc
                    self._tts_usage(chunk, started, ttfb, seconds, exc, model_id)
                    e._emit(ErrorEvent(f"speech output failed, the reply is shown as text: {exc.message}",
                                       exc.hint, ErrorKind.TTS))
                    audio_q.put_nowait((chunk, None))
                if chunk.index != FILLER_INDEX:
                    previous = chunk.text
        finally:
            audio_q.put_nowait(None)

    def _note_offline_language(self, reason: str | None = None, hint: str | None = None) -> None:
        """Tell the user once per session that offline speech is English only (the reply is text)."""
        e = self.e
        if e._offline_language_noted:
            return
        e._offline_language_noted = True
        line = lang.OFFLINE_ENGLISH_ONLY.format(name=lang.language_name(self.language))
        e._emit(ErrorEvent(f"{reason}: {line}" if reason else line,
                           hint or "set an ElevenLabs key (tts.engine elevenlabs) to hear replies in your language",
                           ErrorKind.TTS_LANGUAGE))

    def _tts_usage(self, chunk: SpeechChunk, started: float, ttfb: float | None, seconds: float,
                   error: SynthbotError | None, model_id: str | None = None) -> None:
        e = self.e
        info = getattr(error, "info", None)
        engine, model = _speech_engine_and_model(e.speech, model_id or e.config.tts_model_id)
        if engine in LOCAL_PROVIDERS:
            cost: Decimal | None = Decimal(0)  # runs on this computer: free, and known to be
        elif error is None and e.config.prices is not None:
            cost = e.config.prices.characters_cost(engine, model, len(chunk.text))
        else:
            cost = None
        sid, suid = self._session_ref()
        self._record_call(UsageRecord(
            provider=engine, endpoint="text-to-speech", model=model, cost_usd=cost,
            characters=len(chunk.text), audio_seconds=round(seconds, 3), ttfb_ms=ttfb,
            latency_ms=(e.clock() - started) * 1000.0, success=error is None,
            error_kind=getattr(getattr(info, "kind", None), "value", "tts" if error else None),
            error_message=error.message if error else None, status_code=getattr(info, "status_code", None),
            request_id=getattr(info, "request_id", None),
            session_id=sid, session_uid=suid, message_uid=self.assistant_uid))

    async def _play(self, audio_q: asyncio.Queue[tuple[SpeechChunk, AudioChunk | None] | None]) -> None:
        e = self.e
        out = e.output
        if out is not None:
            out.reset()
        current: SpeechChunk | None = None
        if self.user.commit is not None:
            await self.user.commit.wait()  # speculative: nothing is heard before the end of speech is confirmed
            self._note_commit()
        while (item := await audio_q.get()) is not None:
            chunk, audio = item
            if chunk is not current:
                current = chunk
                # the filler is heard but is not part of the reply (nor of the stored text)
                self.timeline.begin_chunk("" if chunk.index == FILLER_INDEX else chunk.text)
            if audio is None or out is None:
                continue
            if not e._speaking:
                e._speaking = True
                e._emit(StateChanged(TurnState.SPEAKING, self.turn_id))
            self.timeline.add_audio(pcm_seconds(len(audio.pcm), audio.format))
            out.play(audio.pcm, audio.format)
            self._note_first_sample()
        if out is None:
            return
        # Everything is queued: wait for the speaker to finish, reporting progress.
        total = self.timeline.total_s
        while out.seconds_played() < total - 1e-3:
            self._note_first_sample()
            played = out.seconds_played()
            e._emit(PlaybackProgress(self.turn_id, played, self.timeline.spoken_text(played)))
            await asyncio.sleep(e.config.progress_interval_s)
        self._note_first_sample()

    def _note_first_sample(self) -> None:
        out = self.e.output
        if "first_sample_played" in self.marks or out is None:
            return
        first = out.first_sample_time()
        if first is not None:
            self.marks["first_sample_played"] = first

    # Finishing ------------------------------------------------------------------------------------
    def _finish(self, transcription: Transcription, text: str) -> TurnResult:
        if self.retracted:
            return self._finish_retracted(text)
        e = self.e
        out = e.output
        self._note_first_sample()
        self.mark("done")
        played_s = out.seconds_played() if out is not None else self.timeline.total_s
        has_audio = out is not None and self.timeline.total_s > 0
        if self.interrupted and has_audio:
            spoken = self.timeline.spoken_text(played_s)
        else:  # complete, or text-only (nothing was played, what was shown counts)
            spoken = " ".join(c.text for c in self.chunks)
        error_text = self.llm_error.one_line() if self.llm_error else None
        timings = self.timings_ms()
        conv = e.conversation
        spec: SessionSpec | None = None
        if conv.session_pending or (conv.session_id is None and conv.session_uid is None):
            conv.session_uid, conv.session_pending = self.user_uid, False  # the session is born with this message
            spec = SessionSpec(uid=self.user_uid, provider=conv.provider, model=conv.model,
                               tts_engine=conv.tts_engine, voice_id=conv.voice_id, persona_id=conv.persona_id)
        user_msg = MessageRecord(
            session_id=conv.session_id, session_uid=conv.session_uid, role="user", content=text, uid=self.user_uid,
            audio_duration_s=round(transcription.audio_seconds, 3) or None, stt_model=transcription.model,
            stt_language=transcription.language, stt_confidence=transcription.confidence,
            timings={k: timings[k] for k in ("speech_end", "endpoint_detected", "transcript_ready") if k in timings})
        usage = self.chat_usages[-1] if self.chat_usages else None
        tokens_in, tokens_out = _token_sums(self.chat_usages)
        assistant_msg = MessageRecord(
            session_id=conv.session_id, session_uid=conv.session_uid, role="assistant", content=spoken,
            full_content=self.full_reply,
            interrupted=self.interrupted, uid=self.assistant_uid,
            error=error_text or (f"speech output failed: {self.tts_error.message}" if self.tts_error else None),
            audio_duration_s=round(min(played_s, self.timeline.total_s), 3) or None, provider=e.chat.name,
            model=usage.model if usage else conv.model, tokens_in=tokens_in, tokens_out=tokens_out,
            timings={**timings, "randomness": self.randomness} if self.randomness else timings)
        self._record_llm()
        tool_msgs = self.tool_log.records
        for m in tool_msgs:  # stored between the question and the answer, stamped with the question
            m.created_at = user_msg.created_at
            m.session_id, m.session_uid = conv.session_id, conv.session_uid
        if e.recorder is not None:
            e.recorder.submit(WriteUnit(messages=[user_msg, *tool_msgs, assistant_msg], usage=self._unrecorded(),
                                        session=spec, link=dict(self.recorded)))
        conv.history.append(ChatMessage("user", text))
        if spoken or self.full_reply:
            conv.history.append(ChatMessage("assistant", spoken or self.full_reply))
        e._emit(AssistantDone(spoken, self.turn_id, self.interrupted, self.full_reply, error_text,
                              self.assistant_uid if e.recorder is not None else None))
        e._emit(TurnTimings(self.turn_id, timings))
        e._emit(StateChanged(TurnState.IDLE, self.turn_id))
        return TurnResult(self.turn_id, text, spoken, self.full_reply, self.interrupted, error_text,
                          self.tts_error.message if self.tts_error else None, timings=timings,
                          user_uid=self.user_uid, assistant_uid=self.assistant_uid, usage=self.usage,
                          audio_seconds=self.timeline.total_s, randomness=self.randomness,
                          tool_calls=self.tool_log.summary())

    def _finish_retracted(self, text: str) -> TurnResult:
        """Withdrawn turn: no messages, no history; only the usage that really happened is recorded."""
        e = self.e
        self.mark("done")
        if self.llm_started:
            self._record_llm()
        usage = [dataclasses.replace(u, message_uid=None) for u in self.usage]
        unrecorded = [u for u in usage if u.uid not in self.recorded]  # the others are durable already
        if unrecorded and e.recorder is not None:
            e.recorder.submit(WriteUnit(usage=unrecorded))
        e._emit(TurnRetracted(self.turn_id, text))
        e._emit(StateChanged(TurnState.HEARING, self.turn_id))
        return TurnResult(self.turn_id, text, "", self.full_reply, interrupted=True, timings=self.timings_ms(),
                          usage=usage, retracted=True)

    def _llm_usages(self) -> list[UsageRecord]:
        """One usage row per LLM round: finished rounds with their own counts; the error or the
        interruption belongs to the last round (which has no usage when it never finished)."""
        rounds: list[ChatUsage | None] = list(self.chat_usages)
        if not self.llm_finished and (not rounds or self._round_open):
            rounds.append(None)  # the round that was cut off
        rows = []
        for i, u in enumerate(rounds):
            last = i == len(rounds) - 1
            rows.append(self._llm_usage(u, first_round=i == 0, last=last))
        return rows

    def _llm_usage(self, u: ChatUsage | None, *, first_round: bool = True, last: bool = True) -> UsageRecord:
        e = self.e
        err = self.llm_error if last else None
        interrupted = self.interrupted and last
        info = getattr(err, "info", None)
        first = self.marks.get("first_token") if first_round else None
        end = self.marks.get("llm_done", e.clock())
        started = self.llm_started if first_round else self.round_started
        return UsageRecord(
            provider=e.chat.name, endpoint="chat", model=u.model if u else e.conversation.model,
            request_id=(u.request_id if u else None) or getattr(info, "request_id", None),
            tokens_in=u.tokens_in if u else None, tokens_out=u.tokens_out if u else None,
            tokens_estimated=u.estimated if u else False,
            ttfb_ms=(u.ttft_ms if u and u.ttft_ms is not None else
                     ((first - started) * 1000.0 if first is not None else None)),
            latency_ms=u.latency_ms if u and u.latency_ms is not None else (end - started) * 1000.0,
            status_code=(u.status_code if u else None) or getattr(info, "status_code", None),
            success=err is None and not (interrupted and u is None),
            error_kind=(getattr(getattr(info, "kind", None), "value", "llm") if err else
                        ("cancelled" if interrupted and u is None else None)),
            error_message=err.message if err else None,
            cost_usd=(e.config.prices.llm_cost(u.provider, u.model, u.tokens_in, u.tokens_out)
                      if u is not None and e.config.prices is not None else None),
            session_id=self._session_ref()[0], session_uid=self._session_ref()[1], message_uid=self.assistant_uid)


def _token_sums(usages: list[ChatUsage]) -> tuple[int | None, int | None]:
    """Tokens of all rounds together (None when no round reported any)."""
    ins = [u.tokens_in for u in usages if u.tokens_in is not None]
    outs = [u.tokens_out for u in usages if u.tokens_out is not None]
    return (sum(ins) if ins else None), (sum(outs) if outs else None)
