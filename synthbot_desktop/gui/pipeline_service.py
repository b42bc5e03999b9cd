"""The desktop app's TalkService on top of the core turn engine (``pipeline.turn``).

Every method is called on the GUI thread and only schedules work on the engine thread's
asyncio loop; all state below lives on that loop. Parts are built lazily and kept: the chat
provider (rebuilt when the provider switcher changes), the speech provider (rebuilt on a voice
change), the Whisper model (loaded once, in a worker thread), the speaker and the microphone
(opening a PortAudio stream takes 1–2 s through PulseAudio, so they stay open).

Push-to-talk collects microphone blocks between press and release and runs one turn on them;
hands-free runs the core's ``VoiceLoop`` (endpointer + barge-in) until switched off.
Factories for the output, microphone and Whisper engine can be swapped (tests, benchmarks).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import SynthbotError, describe, error_kind, settings_action
from synthbot_desktop.gui.bridge import EngineThread
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.services.conversation import (
    ConversationPlan,
    chat_for,
    open_conversation,
    open_output,
    plan_conversation,
    speech_for,
    turn_voice_id,
)
from synthbot_desktop.services.voice import VoiceChoice
from synthbot_desktop.setting_keys import (
    AUDIO_ECHO_CANCELLATION,
    AUDIO_INPUT_DEVICE,
    AUDIO_OUTPUT_DEVICE,
    AUDIO_WAKE_WORD_EARCONS,
    LLM_PROVIDER,
    UI_SOUND_CUES,
    UI_SPOKEN_ERRORS,
    UI_SPOKEN_REMINDERS,
    provider_model,
)

log = logging.getLogger(__name__)

SILENT_PEAK = 10 ** (-70 / 20)  # below -70 dBFS peak nobody spoke: a push-to-talk take this quiet is no turn


def _default_output(ctx: AppContext) -> Any:
    from synthbot_desktop.audio.playback import Player
    from synthbot_desktop.pipeline.adapters import PlayerOutput

    device = ctx.settings.value(AUDIO_OUTPUT_DEVICE) or None
    return PlayerOutput(Player(device).start())


def _default_mic(ctx: AppContext) -> Any:
    from synthbot_desktop.audio.capture import MicrophoneStream

    device = ctx.settings.value(AUDIO_INPUT_DEVICE) or None
    return MicrophoneStream(device).start()


def _default_whisper(ctx: AppContext) -> Any:
    from synthbot_desktop.stt.engine import WhisperEngine

    return WhisperEngine.from_settings(ctx.settings)


# Settings a running hands-free loop cannot take in place (it holds the device, the wake-word
# detector and the canceller it started with): saving one restarts listening.
_LOOP_RESTART_KEYS = ("audio.input_device", "audio.wake_word", "audio.echo_cancellation", "audio.headphones",
                      "pipeline.end_of_turn_model")


class MutableMic:
    """The microphone with a mute switch: while muted every subscriber gets silence of the same
    length and timing, so the endpointer simply hears a pause (an utterance in progress ends, no
    new one starts) and nothing else in the pipeline needs to know about muting."""

    def __init__(self, mic: Any) -> None:
        self.mic = mic
        self.muted = False

    def subscribe(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        def gate(block: Any) -> None:
            if self.muted:
                from synthbot_desktop.audio.levels import measure

                silent = np.zeros_like(block.samples)
                block = dataclasses.replace(block, samples=silent, level=measure(silent))
            fn(block)

        return self.mic.subscribe(gate)

    def close(self) -> None:
        self.mic.close()


def error_event(exc: BaseException) -> ev.ErrorEvent:
    """A banner for an exception: the sentence, the fix, and where to fix it (redacted)."""
    from synthbot_desktop.redaction import redact

    kind = error_kind(exc)
    if isinstance(exc, SynthbotError):
        return ev.ErrorEvent(redact(exc.message), hint=redact(exc.hint) if exc.hint else None, kind=kind,
                             action=settings_action(kind))
    return ev.ErrorEvent(f"unexpected problem: {describe(exc)}", kind=kind)


class PipelineTalkService:
    def __init__(
        self,
        ctx: AppContext,
        engine_thread: EngineThread,
        sink: ev.EventSink,
        *,
        output_factory: Callable[[AppContext], Any] = _default_output,
        mic_factory: Callable[[AppContext], Any] = _default_mic,
        whisper_factory: Callable[[AppContext], Any] = _default_whisper,
    ) -> None:
        self.ctx = ctx
        self.thread = engine_thread
        self._window_sink = sink
        self._output_factory = output_factory
        self._mic_factory = mic_factory
        self._whisper_factory = whisper_factory
        s = ctx.settings
        self.provider = s.value(LLM_PROVIDER)
        self.model = s.value(provider_model(self.provider))
        # The switcher's explicit choice; None = the rule in services.voice (persona, then default).
        self.voice: VoiceChoice | None = None
        self._model_chosen = False  # picked in the switcher: beats the persona's model
        self.persona_id: int | None = None
        self.session_id: int | None = None
        # Engine-loop state ------------------------------------------------------------------------
        self._chat: Any = None
        self._speech: Any = None
        self._speech_voice: VoiceChoice | None = None  # the voice self._speech speaks with
        self._plan: ConversationPlan | None = None
        self._output_ready = False  # tried once: None afterwards means "no speaker, speech off"
        self._whisper: Any = None
        self._output: Any = None
        self._mic: Any = None
        self._echo_mode: str | None = None  # decided once per microphone
        self._echo_unsettled: Callable[[], bool] | None = None
        self._echo_veto: Callable[[], bool] | None = None  # the canceller's "that was our own voice"
        self._echo_tap: Callable[..., None] | None = None  # the canceller's far-end feed on the player
        self._engine: Any = None
        self._conv: Any = None
        self._loop_task: asyncio.Task[Any] | None = None
        self._voice_loop: Any = None
        self._turn_model: tuple[str, Any] | None = None  # (pipeline.end_of_turn_model, the loaded model or None)
        self._ptt_blocks: list[np.ndarray] | None = None
        self._ptt_unsubscribe: Callable[[], None] | None = None
        self._turns: list[asyncio.Task[Any]] = []
        self.muted = False  # the window's mute button; applied to the microphone when it opens
        self.mode = "normal"  # or "enhanced": pooled random numbers pick each turn's seed/temperature
        self._config_lock = asyncio.Lock()  # switches apply in order with the turns (see _configuring)
        self._mcp: Any = None  # MCP servers: one manager for the app, started lazily, stopped at shutdown
        self._mcp_opened = False
        from synthbot_desktop.pipeline.cues import CuePolicy

        self._cues = CuePolicy()  # fed from sink(); sink runs on the engine loop (and the writer thread)
        self._error_voice: Any = None  # Piper, loaded on the first spoken error
        self._mic_hold_until = 0.0  # engine-loop time until which the app's own sound is playing
        self.spoken_errors: list[str] = []  # what was said aloud (tests, diagnostics)
        self.spoken_reminders: list[str] = []

    # Plumbing ------------------------------------------------------------------------------------
    async def _configuring(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a change of provider/model/voice/persona/mode before any turn submitted after it.
        The lock is taken before the first await (a free asyncio.Lock is taken without
        suspending), so a message sent right after a switch can never start with the old parts."""
        async with self._config_lock:
            return await coro

    async def _settled(self) -> None:
        """Wait for configuration changes submitted before this turn."""
        async with self._config_lock:
            return

    def _listening(self) -> bool:
        task = self._loop_task
        return task is not None and not task.done()

    def sink(self, event: ev.Event) -> None:
        """Every event for the window passes here. A turn ends with IDLE, but while the hands-free
        loop runs the microphone is still live and answering: the window must show Listening, never
        "Ready" (issue #21: the state lied and people talked to an app they thought was off)."""
        if isinstance(event, ev.StateChanged) and event.state == ev.TurnState.IDLE and self._listening():
            event = ev.StateChanged(ev.TurnState.LISTENING, event.turn_id)
        self._window_sink(event)
        if isinstance(event, ev.StateChanged | ev.ErrorEvent):
            self._sound_for(event)
        elif isinstance(event, ev.TimerFired) and self.ctx.settings.value(UI_SPOKEN_REMINDERS):
            from synthbot_desktop.services.notifications import spoken_text, timer_notice

            self.thread.submit(self._say(spoken_text(timer_notice(event.label)), tag="reminder"))

    # Sound cues and spoken errors (pipeline.cues decides; this plays on the conversation's speaker)
    def _sound_for(self, event: ev.Event) -> None:
        from synthbot_desktop.pipeline.cues import PlayCue, SayError

        s = self.ctx.settings
        actions = self._cues.observe(event, cues=s.value(UI_SOUND_CUES),
                                     spoken_errors=s.value(UI_SPOKEN_ERRORS))
        for action in actions:
            if isinstance(action, PlayCue):
                self._play_cue(action.kind)
            elif isinstance(action, SayError):
                self.thread.submit(self._say(action.text, tag="spoken_error"))

    def _play_cue(self, kind: str) -> None:
        from synthbot_desktop.pipeline.cues import CUE_RATE, cue_tone

        player = getattr(self._output, "player", None)
        if player is None:  # no speaker (yet): the first listening of a session opens it, cues follow
            return
        tone = cue_tone(kind)
        try:
            player.enqueue(tone, sample_rate=CUE_RATE, tag="cue")
        except Exception as exc:  # a cue is a courtesy: never disturb the turn over it
            log.debug("cue %s not played: %s", kind, exc)
            return
        if kind != "sent":
            # Not for "sent": in hands-free it can come at a speculative pause the person then talks
            # on after (pipeline.cues), and silencing the microphone there would cut their words.
            self.thread.call_soon(self._hold_mic, len(tone) / CUE_RATE, self._output_latency(player))

    @staticmethod
    def _output_latency(player: Any) -> float:
        latency = getattr(player, "output_latency", 0.0)
        return float(latency) if isinstance(latency, int | float) else 0.0

    def _hold_mic(self, seconds: float, latency: float = 0.0, tail: float = 0.1) -> None:
        """The microphone hears silence while the app's own sound plays (from when it reaches the
        speaker, plus a short tail for the room), so a cue or a spoken error can never start a turn
        without an echo canceller. Kept short for cues: push-to-talk speech right after the
        "listening" tone must not be cut. Runs on the engine loop; overlapping holds extend each other."""
        loop = asyncio.get_running_loop()
        until = loop.time() + latency + seconds + tail
        self._mic_hold_until = max(self._mic_hold_until, until)
        if self._mic is not None:
            self._mic.muted = True

        def release() -> None:
            if loop.time() >= self._mic_hold_until - 1e-3 and self._mic is not None:
                self._mic.muted = self.muted  # the mute button's state, whatever it is now

        loop.call_at(until, release)

    async def _say(self, text: str, *, tag: str) -> None:
        """Say ``text`` (an error sentence, a reminder) with the offline Piper voice (works when the
        network or ElevenLabs is what failed), unless the admin turned Piper off (feature.tts.piper,
        issue #18: then the banner or notification is all). The microphone hears silence meanwhile, so
        the app never answers its own sentence."""
        from synthbot_desktop.services import features
        from synthbot_desktop.tts.piper_engine import PiperSpeech
        from synthbot_desktop.tts.registry import PIPER_FLAG, piper_options

        player = getattr(self._output, "player", None)
        if player is None:
            return
        try:
            if not await asyncio.to_thread(features.enabled, self.ctx, PIPER_FLAG):
                log.info("not said aloud (%s): the offline voice is turned off by the administrator", tag)
                return
            if self._error_voice is None:
                self._error_voice = PiperSpeech(piper_options(self.ctx))
            voice = self._error_voice
            pieces: list[bytes] = []

            def keep(pcm: bytes) -> bool:
                pieces.append(pcm)
                return True

            await asyncio.to_thread(voice.synthesize_blocking, text, keep)
            pcm = b"".join(pieces)
            fmt = voice.audio_format
            player.enqueue(pcm, fmt, tag=tag)
            (self.spoken_errors if tag == "spoken_error" else self.spoken_reminders).append(text)
            self._hold_mic(len(pcm) / (fmt.sample_rate * fmt.channels * fmt.sample_width),
                           self._output_latency(player), tail=0.3)
        except Exception as exc:  # the banner already says it: a missing voice must not add a second error
            log.info("could not say the error aloud: %s", exc)

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        async def guarded() -> Any:
            try:
                return await coro
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                log.info("talk action failed: %s", exc)
                self.sink(error_event(exc))
                self.sink(ev.StateChanged(ev.TurnState.IDLE))
                return None

        return self.thread.submit(guarded())

    async def _ensure_whisper(self) -> Any:
        if self._whisper is None:
            whisper = self._whisper_factory(self.ctx)
            await asyncio.to_thread(self._load_whisper, whisper)
            self._whisper = whisper
        return self._whisper

    def _load_whisper(self, whisper: Any) -> None:
        """Load a recogniser (worker thread); a first-use model assembly reports its progress to
        the window (ev.Preparing), at most once per percent."""
        from synthbot_desktop.stt.engine import WhisperEngine

        if not isinstance(whisper, WhisperEngine):
            whisper.load()  # a test double
            return
        shown = [-1]

        def progress(done: int, total: int) -> None:
            pct = 100 * done // max(total, 1)
            if pct != shown[0]:
                shown[0] = pct
                self.sink(ev.Preparing("the multilingual speech model", done, total))

        whisper.load(progress=progress)

    async def _ensure_engine(self, *, need_stt: bool) -> Any:
        from synthbot_desktop.pipeline.adapters import WhisperTranscriber

        ctx = self.ctx
        if self._plan is None:
            self._plan = await asyncio.to_thread(plan_conversation, ctx, provider=self.provider,
                                                 model=self.model if self._model_chosen else None,
                                                 voice=self.voice, persona_id=self.persona_id)
        plan = self._plan
        if self._chat is None:
            self._chat = chat_for(ctx, plan)
        if not self._output_ready:
            self._output = await open_output(ctx, self._output_factory, self.sink)
            self._output_ready = True
        if self._output is None:  # no speaker: answer in text (said once, by open_output)
            self._speech, self._speech_voice = None, None
        elif self._speech is None or self._speech_voice != plan.voice:
            if self._speech is not None:
                await self._speech.aclose()
            self._speech = await asyncio.to_thread(speech_for, ctx, plan.voice, events=self.sink)
            self._speech_voice = plan.voice
        if need_stt:
            await self._ensure_whisper()
        if self._engine is not None:
            if need_stt and self._engine.stt is None:
                self._engine.stt = WhisperTranscriber(self._whisper)
            return self._engine
        from synthbot_desktop.services.tools import event_confirm

        if not self._mcp_opened:
            from synthbot_desktop.tools.mcp_client import open_mcp

            self._mcp, self._mcp_opened = await asyncio.to_thread(open_mcp, ctx), True
        sink = self.sink
        self._engine = await open_conversation(
            ctx, plan, chat=self._chat, speech=self._speech, output=self._output,
            stt=WhisperTranscriber(self._whisper) if self._whisper is not None else None, sink=self.sink,
            session_id=self.session_id, on_session=self._session_created,
            mcp=self._mcp, on_timer=lambda label: sink(ev.TimerFired(label)),
            confirm=event_confirm(sink))  # side effects: asked in the window (gui/tool_status.py)
        self._conv = self._engine.conversation
        self._engine.sampler = self._turn_sampler(plan)
        self.session_id = self._conv.session_id
        self.sink(ev.SessionChanged(self._conv.session_id))
        return self._engine

    def _session_created(self, session_id: int) -> None:
        """A new conversation's first message is stored (writer thread): the window learns the id."""
        self.session_id = session_id
        self.sink(ev.SessionChanged(session_id))

    async def _ensure_echo_cancellation(self, mic: Any, headphones: bool) -> bool:
        """Put the echo canceller on the microphone (once), with the speaker's output as reference.

        Returns whether the capture path is echo-cancelled (the canceller, or the system's own
        echo-cancelled input). A canceller that cannot start is one line in the window.
        """
        from synthbot_desktop.audio.echo import choose_canceller

        if self._echo_mode is not None:
            return self._echo_mode != "off"
        player = getattr(self._output, "player", None)
        if player is None or not hasattr(mic, "processor") or not hasattr(player, "add_tap"):
            self._echo_mode = "off"  # no speaker (no echo), or a test double
            return False
        choice = await asyncio.to_thread(choose_canceller, self.ctx.settings.value(AUDIO_ECHO_CANCELLATION),
                                         headphones=headphones,
                                         input_device=self.ctx.settings.value(AUDIO_INPUT_DEVICE) or None)
        if choice.warning:
            self.sink(ev.ErrorEvent(choice.warning))
        if choice.canceller is not None:
            self._echo_tap = choice.canceller.reference.push
            player.add_tap(self._echo_tap)
            choice.canceller.player = player
            mic.processor = choice.canceller.process
            self._echo_unsettled = choice.canceller.unsettled
            self._echo_veto = choice.canceller.sounds_like_echo
        self._echo_mode = choice.mode
        log.info("echo cancellation: %s", choice.detail)
        return choice.mode != "off"

    def _chime(self, kind: str) -> None:
        from synthbot_desktop.audio.wake_word import earcon

        player = getattr(self._output, "player", None)
        if player is not None:
            player.enqueue(earcon(kind), sample_rate=22050, tag="earcon")

    async def _ensure_mic(self) -> Any:
        if self._mic is None:
            mic = MutableMic(await asyncio.to_thread(self._mic_factory, self.ctx))
            mic.muted = self.muted
            self._mic = mic
        return self._mic

    def set_muted(self, muted: bool) -> None:
        """The mute button: the microphone delivers silence until unmuted (nothing is heard)."""
        def apply() -> None:
            self.muted = muted
            if self._mic is not None:  # unmuting during the app's own sound: heard again when it ends
                held = asyncio.get_running_loop().time() < self._mic_hold_until
                self._mic.muted = muted or held

        self.thread.call_soon(apply)

    def set_persona(self, persona_id: int | None) -> None:
        """The persona picker (None = no persona). A persona chosen now is newer than earlier
        switcher picks of voice and model, so its voice and model are heard from the next turn."""
        async def go() -> None:
            self.persona_id = persona_id
            self.voice = None
            self._model_chosen = False
            self.model = self.ctx.settings.value(provider_model(self.provider))
            self._plan = None
            await self._apply_plan()
            if self._conv is not None and self._plan is not None:  # mid-conversation: the new character speaks
                from synthbot_desktop.storage.memory import with_memory

                self._conv.system_prompt = await asyncio.to_thread(with_memory, self.ctx.db, self.ctx.user_id,
                                                                   self._plan.system_prompt)

        self._submit(self._configuring(go()))

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._turns.append(task)

        def done(t: asyncio.Task[Any]) -> None:
            if t in self._turns:
                self._turns.remove(t)
            if not t.cancelled() and t.exception() is not None:
                self.sink(error_event(t.exception()))  # type: ignore[arg-type]

        task.add_done_callback(done)

    # TalkService ---------------------------------------------------------------------------------
    def warm_up(self) -> concurrent.futures.Future[Any]:
        """Load Whisper in the background at start-up so the first spoken turn is quick."""
        return self._submit(self._ensure_whisper())

    def send_text(self, text: str) -> None:
        from synthbot_desktop.pipeline.turn import UserInput

        async def go() -> None:
            await self._settled()
            engine = await self._ensure_engine(need_stt=False)
            self._track(engine.start_turn(UserInput(text=text, speech_end=time.monotonic())))

        self._submit(go())

    def regenerate(self, text: str) -> None:
        """The last reply again: same turn as a typed message, without the old exchange in context."""
        self._replace_last_exchange(text, text)

    def resend_edited(self, old_text: str, new_text: str) -> None:
        """Edit-and-resend: the edited question instead of the last one, the old exchange out of context."""
        self._replace_last_exchange(old_text, new_text)

    def _replace_last_exchange(self, old_text: str, new_text: str) -> None:
        from synthbot_desktop.pipeline.session import drop_last_exchange
        from synthbot_desktop.pipeline.turn import UserInput

        async def go() -> None:
            await self._settled()
            engine = await self._ensure_engine(need_stt=False)
            for task in list(self._turns):  # the exchange being redone is finished and in the context
                await asyncio.gather(task, return_exceptions=True)
            drop_last_exchange(engine.conversation, old_text)
            self._track(engine.start_turn(UserInput(text=new_text, speech_end=time.monotonic())))

        self._submit(go())

    def start_listening(self, hands_free: bool) -> None:
        self._submit(self._hands_free() if hands_free else self._ptt_start())

    async def _ptt_start(self) -> None:
        if self._ptt_blocks is not None:
            return
        # One way of listening at a time: a hands-free loop left running (shortcut, tray, a race
        # with the checkbox) would keep answering from the same microphone behind push-to-talk.
        await self._stop_loop()
        self._ptt_blocks = []
        mic = await self._ensure_mic()
        loop = asyncio.get_running_loop()
        if self._ptt_blocks is None:  # released while the microphone was opening
            return

        def on_block(block: Any) -> None:
            loop.call_soon_threadsafe(self._ptt_block, block.samples)

        self._ptt_unsubscribe = mic.subscribe(on_block)
        # "Listening" only once the microphone really is: the first open (PortAudio start-up) can
        # take seconds, and words said at a "Listening" that was not true were lost (GUI soak).
        self.sink(ev.StateChanged(ev.TurnState.LISTENING))
        await self._ensure_engine(need_stt=True)

    def _ptt_block(self, samples: np.ndarray) -> None:
        if self._ptt_blocks is None:
            return
        first = not self._ptt_blocks
        self._ptt_blocks.append(np.asarray(samples, dtype=np.float32).reshape(-1))
        if first:
            self.sink(ev.StateChanged(ev.TurnState.HEARING))
        if samples.size:
            peak = float(np.max(np.abs(samples)))
            rms = float(np.sqrt(np.mean(np.square(samples))))
            self.sink(ev.InputLevel(20 * np.log10(max(rms, 1e-6)), 20 * np.log10(max(peak, 1e-6))))

    async def _ptt_stop(self) -> None:
        from synthbot_desktop.pipeline.turn import UserInput

        blocks, self._ptt_blocks = self._ptt_blocks, None
        if self._ptt_unsubscribe is not None:
            self._ptt_unsubscribe()
            self._ptt_unsubscribe = None
        if blocks is None:
            return
        audio = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
        # Too short, or digitally silent (muted, a dead device): no turn. Whisper "hears" words in
        # silence ("Thank you very much."), and each of those became a phantom turn (issue #21).
        if audio.size < 16000 * 0.2 or float(np.max(np.abs(audio))) < SILENT_PEAK:
            self.sink(ev.StateChanged(ev.TurnState.IDLE))
            return
        await self._settled()
        engine = await self._ensure_engine(need_stt=True)
        self._track(engine.start_turn(UserInput(audio=audio, speech_end=time.monotonic())))

    async def _hands_free(self) -> None:
        from synthbot_desktop.audio.vad import Endpointer
        from synthbot_desktop.pipeline.settings_map import endpointer_config, loop_config, turn_model, wake_detector
        from synthbot_desktop.pipeline.voice_loop import VoiceLoop

        if self._loop_task is not None and not self._loop_task.done():
            return
        s = self.ctx.settings
        mic = await self._ensure_mic()
        engine = await self._ensure_engine(need_stt=True)
        endpointer = Endpointer(endpointer_config(s))
        cfg = loop_config(s)
        # the canceller sits on the capture stream itself, under the mute switch (MutableMic hid
        # its ``processor``, so the window listened on speakers with no cancellation at all)
        cfg.echo_cancelled = await self._ensure_echo_cancellation(mic.mic, cfg.headphones)
        endpointer.veto = self._echo_veto
        wake = wake_detector(s, warn=lambda m: self.sink(ev.ErrorEvent(m)))
        choice = s.get("pipeline.end_of_turn_model")
        if self._turn_model is None or self._turn_model[0] != choice:  # loaded once, again if the setting changed
            self._turn_model = (choice, await asyncio.to_thread(
                turn_model, s, warn=lambda m: self.sink(ev.ErrorEvent(m))))
        voice_judge = self._turn_model[1]
        self._voice_loop = VoiceLoop(engine, mic, endpointer, config=cfg, sink=self.sink, wake=wake,
                                     chime=self._chime if wake is not None and s.value(AUDIO_WAKE_WORD_EARCONS)
                                     else None)
        self._voice_loop.echo_unsettled = self._echo_unsettled
        self._voice_loop.turn_model = voice_judge
        self._loop_task = asyncio.get_running_loop().create_task(self._voice_loop.run())

    async def _stop_loop(self) -> None:
        """End the hands-free loop (if any) and wait until it no longer reads the microphone."""
        task = self._loop_task
        if self._voice_loop is not None:
            self._voice_loop.stop()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self._voice_loop = self._loop_task = None
        if task is not None:
            self.sink(ev.StateChanged(ev.TurnState.IDLE))  # nobody listens any more: say so

    def stop_listening(self) -> None:
        async def go() -> None:
            # Both, not either: a push-to-talk utterance and a loop can both be live (issue #21:
            # with push-to-talk blocks set the loop was never stopped and answered silence).
            await self._stop_loop()
            if self._ptt_blocks is not None:
                await self._ptt_stop()

        self._submit(go())

    def interrupt(self) -> None:
        def stop() -> None:
            if self._engine is not None:
                self._engine.interrupt()

        self.thread.call_soon(stop)

    async def _drop_engine(self) -> None:
        await self._stop_loop()
        if self._engine is not None:
            await self._engine.aclose()
        self._engine = None
        self._conv = None

    def new_session(self) -> None:
        async def go() -> None:
            await self._drop_engine()
            self.session_id = None

        self._submit(go())

    def resume_session(self, session_id: int) -> None:
        async def go() -> None:
            await self._drop_engine()
            self.session_id = session_id

        self._submit(go())

    def configure(self, *, provider: str | None = None, model: str | None = None, voice: VoiceChoice | None = None,
                  persona_id: int | None = None) -> None:
        async def go() -> None:
            if provider and provider != self.provider:
                self.provider = provider
                self.model = self.ctx.settings.value(provider_model(provider))
                self._model_chosen = False
                if self._chat is not None:
                    await self._chat.aclose()
                self._chat = None
            if model:
                self._model_chosen = model != self.model or self._model_chosen
                self.model = model
            if voice is not None:
                self.voice = voice
            if persona_id is not None:
                self.persona_id = persona_id
            self._plan = None  # decided again (same rule) before the next turn
            await self._apply_plan()

        self._submit(self._configuring(go()))

    async def _apply_plan(self) -> None:
        """The conversation continues with the new parts from the next turn on."""
        if self._engine is None:
            return  # the first turn builds everything from the current choice
        engine = await self._ensure_engine(need_stt=False)
        plan = self._plan
        assert plan is not None
        engine.chat = self._chat
        engine.sampler = self._turn_sampler(plan)
        engine.speech = self._speech
        engine.config.voice_id = turn_voice_id(plan.voice)
        engine.config.temperature = plan.temperature
        self._conv.provider = plan.provider
        self._conv.model = plan.model

    def _turn_sampler(self, plan: ConversationPlan) -> Any:
        """Enhanced mode: the turn engine's sampler, as ``talk --mode enhanced`` sets it
        (docs/enhanced-mode.md): each turn draws its seed and temperature from the pool and the
        record is stored on its assistant message. Normal mode: none."""
        if self.mode != "enhanced":
            return None
        from synthbot_desktop.randomness.enhanced import TurnSampler

        return TurnSampler.from_settings(self.ctx.db, plan.provider, self.ctx.settings)

    def set_mode(self, mode: str) -> None:
        """The window's conversation-mode switch: "normal" or "enhanced", from the next turn."""
        if mode not in ("normal", "enhanced"):
            raise ValueError(f"unknown conversation mode {mode!r}")

        async def go() -> None:
            self.mode = mode
            if self._engine is not None and self._plan is not None:
                self._engine.sampler = self._turn_sampler(self._plan)

        self._submit(self._configuring(go()))

    def follow_settings(self, keys: set[str]) -> None:
        """Settings were saved: provider, model and voice come from them again. The switchers'
        earlier picks are older than this choice, so they give way (issue #21: the window kept
        using Ollama after "Answer with: OpenAI"). Changed provider or speech settings rebuild
        the client that reads them."""
        chat_keys = not keys or any(k.startswith(("llm.", "providers.")) for k in keys)
        speech_keys = not keys or any(k.startswith("tts.") for k in keys)
        loop_keys = not keys or any(k.startswith(("audio.", "pipeline.", "ui.live_captions")) for k in keys)

        restart_keys = {k for k in keys if k.startswith(_LOOP_RESTART_KEYS)}
        stt_keys = not keys or any(k.startswith("stt.") for k in keys)

        async def go() -> None:
            s = self.ctx.settings
            if stt_keys:
                await self._follow_stt_settings()
            if restart_keys:
                await self._restart_listening(new_mic="audio.input_device" in restart_keys)
            elif loop_keys and self._voice_loop is not None:
                self._retune_loop()
            if not (chat_keys or speech_keys):
                return  # e.g. ui settings: nothing the switchers show
            if chat_keys:
                if self._chat is not None:
                    await self._chat.aclose()
                    self._chat = None
                self.provider = s.value(LLM_PROVIDER)
                self.model = s.value(provider_model(self.provider))
                self._model_chosen = False
            if speech_keys:
                if self._speech is not None:
                    await self._speech.aclose()
                    self._speech, self._speech_voice = None, None
                self.voice = None
            self._plan = None
            await self._apply_plan()

        self._submit(self._configuring(go()))

    async def _follow_stt_settings(self) -> None:
        """Speech-recognition settings (model, language, beam, compute type…) saved in the window:
        a loaded Whisper whose options differ is replaced by one built from them (loaded off the
        loop, the old one keeps serving until the new one is ready), and the turn engine takes the
        fixed language and context-prompt choice (issue #19: choosing the multilingual model or a
        language in Settings worked only after a restart)."""
        from synthbot_desktop.pipeline.adapters import WhisperTranscriber
        from synthbot_desktop.pipeline.settings_map import turn_config

        if self._engine is not None:
            fresh = turn_config(self.ctx.settings)
            self._engine.config.language = fresh.language
            self._engine.config.use_context_prompt = fresh.use_context_prompt
        old = self._whisper
        if old is None:
            return  # not loaded yet: the next load reads the saved settings
        candidate = self._whisper_factory(self.ctx)
        new_options, old_options = getattr(candidate, "options", None), getattr(old, "options", None)
        if new_options == old_options:
            return
        from synthbot_desktop.stt.engine import EngineOptions

        if isinstance(old_options, EngineOptions) and isinstance(new_options, EngineOptions) and \
                dataclasses.replace(new_options, language=old_options.language) == old_options:
            old.options = new_options  # only the language: passed per call, no reload needed
            return
        try:
            await asyncio.to_thread(self._load_whisper, candidate)
        except SynthbotError as exc:  # e.g. the multilingual extra is not installed: say so, keep the old one
            self.sink(error_event(exc))
            return
        self._whisper = candidate
        if self._engine is not None and self._engine.stt is not None:
            self._engine.stt = WhisperTranscriber(candidate)
        if not self._turns:
            old.close()

    async def _restart_listening(self, *, new_mic: bool) -> None:
        """Another microphone, wake word or echo setting: the loop is built again around it (a
        running loop keeps the device and detector it opened with). The microphone is reopened
        only when its device changed."""
        was_listening = self._loop_task is not None and not self._loop_task.done()
        await self._stop_loop()
        if self._ptt_blocks is None:  # (a push-to-talk utterance keeps its microphone until released)
            self._drop_echo_cancellation()
            if new_mic and self._mic is not None:
                mic, self._mic = self._mic, None
                await asyncio.to_thread(mic.close)
        if was_listening:
            await self._hands_free()

    def _drop_echo_cancellation(self) -> None:
        """Forget the canceller chosen for the microphone, so the next listening start chooses
        again from the saved settings (and a new microphone is not left without one)."""
        player = getattr(self._output, "player", None)
        if self._echo_tap is not None and player is not None and hasattr(player, "remove_tap"):
            player.remove_tap(self._echo_tap)
        if self._mic is not None and hasattr(self._mic.mic, "processor"):
            self._mic.mic.processor = None
        self._echo_tap = self._echo_unsettled = self._echo_veto = None
        self._echo_mode = None

    def _retune_loop(self) -> None:
        """The running hands-free loop takes saved audio and turn settings (silence length, VAD
        thresholds, holds, barge-in, captions) at once, without a restart that would lose the words
        being heard. Devices, the wake word and echo cancellation apply from the next start."""
        from synthbot_desktop.pipeline.settings_map import endpointer_config, loop_config

        assert self._voice_loop is not None
        s = self.ctx.settings
        self._voice_loop.reconfigure(loop_config(s), endpointer_config(s))

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop listening and speaking, store the turn in progress, close devices."""
        async def go() -> None:
            await self._drop_engine()
            for task in list(self._turns):
                await asyncio.gather(task, return_exceptions=True)
            for closer in (self._chat, self._speech, self._mcp, self._error_voice):
                if closer is not None:
                    await closer.aclose()
            for dev in (self._mic,):
                if dev is not None:
                    await asyncio.to_thread(dev.close)
            player = getattr(self._output, "player", None) or getattr(self._output, "_player", None)
            if player is not None:
                await asyncio.to_thread(player.close)
            if self._whisper is not None:
                self._whisper.close()

        if not self.thread.running:
            return
        future = self.thread.submit(go())
        try:
            future.result(timeout)
        except Exception as exc:  # closing must never keep the app from quitting
            log.warning("could not shut the conversation engine down cleanly: %s", exc)
