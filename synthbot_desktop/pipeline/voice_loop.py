"""Hands-free conversation: microphone -> endpointer -> turns, with barge-in.

The microphone's dispatcher thread only hands blocks to the asyncio loop; the endpointer runs
there (Silero costs well under a millisecond per 32 ms window), so speech start can interrupt
the assistant in the same loop iteration. While the assistant speaks the VAD threshold is raised
(its own voice leaking from the speakers must not interrupt it) unless headphones are in use.
The utterance that interrupted is captured from its start: the endpointer keeps a pre-roll, and
the onset is found at the normal threshold while only the confirmation needs the raised one.

Turn-taking (why a pause is not always the end of a turn):
- speculative transcription: at a short pause (``SpeechPause``) Whisper starts at once; if the
  utterance ends at that same sample the result is used, so at the default 600 ms silence STT
  is hidden inside the silence wait; if speech resumed, the result is dropped;
- semantic end of turn: a transcript that sounds unfinished (``end_of_turn.judge``)
  is held until ``incomplete_hold_ms`` of total silence (``maybe_hold_ms`` when it only may go on:
  "Ten of clubs"; a speculative turn prepares that reply during the hold and is released when it
  ends, withdrawn if the user speaks first); speech that resumes is merged into the
  same user turn (audio and text; only the new piece is transcribed, with the earlier words as
  Whisper's prompt, so the last STT after the final pause stays short);
- a turn already started whose reply has not been heard yet is withdrawn silently when the user
  goes on talking (``TurnEngine.retract``) and merged too; once reply audio plays, it is barge-in;
- speculative turn start: when the early transcription at a pause sounds complete and the user is
  still silent, the turn starts at once (LLM request, first speech chunk) but plays and stores
  nothing until the silence confirms the end of the utterance. At the default 600 ms silence the
  first token has usually arrived by then, so the reply starts as the silence ends. If the user
  goes on talking the turn is withdrawn silently (nothing heard, no message; the tokens spent are
  still recorded as usage) and the whole utterance is transcribed again at its end.

Live captions: while the user is voiced, about once a second the utterance so far is decoded
(short, thanks to the adaptive encoder window) and sent as ``PartialTranscript``; never stored,
never used as the final transcript. No caption decode starts once silence has begun, so the
decode that ends the turn waits at most for one short caption decode already running.

Wake word (issue 15, optional): asleep, the loop feeds only the wake-word detector (the endpointer
and Whisper cost nothing). The phrase wakes it (a chime; during playback it also interrupts): the
endpointer restarts from the last ``preroll_ms`` of audio, so words run on after the phrase are
kept, and the phrase itself is stripped from the transcript. After ``idle_s`` without speech or a
running turn it goes back to sleep (another chime).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from synthbot_desktop.pipeline.end_of_turn import Finish, judge
from synthbot_desktop.pipeline.events import EventSink, InputLevel, PartialTranscript, StateChanged, TurnState
from synthbot_desktop.pipeline.ports import Transcription
from synthbot_desktop.pipeline.prompt_echo import is_prompt_echo
from synthbot_desktop.pipeline.turn import TurnEngine, TurnResult, UserInput

log = logging.getLogger(__name__)
RATE = 16000


class Block(Protocol):
    samples: np.ndarray
    captured_at: float


@dataclass
class BargeIn:
    """One interruption: when speech was detected and when the speaker went silent."""

    detected_at: float
    stopped_at: float
    turn_task: asyncio.Task[TurnResult] | None


@dataclass
class LoopConfig:
    barge_in: bool = True
    headphones: bool = False
    threshold: float = 0.5
    threshold_during_playback: float = 0.85
    max_turns: int | None = None
    incomplete_hold_ms: int = 1200  # total silence before answering an unfinished-sounding transcript
    maybe_hold_ms: int = 500  # ... and one that only may go on ("Ten of clubs", "Paris"): end_of_turn.Finish
    speculative: bool = True  # transcribe at the endpointer's SpeechPause (when it sends them)
    speculative_turn: bool = True  # and start the turn then, if the words sound complete
    live_captions: bool = False  # PartialTranscript while the user speaks (front ends set it from ui.live_captions)
    caption_interval_s: float = 1.0
    echo_cancelled: bool = False  # the capture path cancels the speaker's echo: a lower raised threshold
    threshold_during_playback_aec: float = 0.75
    # The echo guard (raised confirmation threshold and the canceller's veto) stays up for blocks
    # captured this long after playback was last seen: the room's reverberation, the device's
    # output latency and a loaded machine's capture lag outlast the last sample handed over (issue
    # #15: an empty "turn" was accepted 20 ms after playback ended, on echo heard 2.5 s before).
    playback_tail_ms: int = 600
    wake_idle_s: float = 8.0  # with a wake word: awake with nothing going on for this long -> asleep
    wake_preroll_ms: int = 150  # with a wake word: audio before the detection given to the endpointer


@dataclass
class _SpeculativeTurn:
    """A turn started at a pause, waiting for the silence to confirm it (or for the user to go on)."""

    end_sample: int
    pending_before: Heard | None  # the held words it took over; given back if it is withdrawn
    user: UserInput
    gate: asyncio.Event
    task: asyncio.Task[TurnResult]
    heard: Heard | None = None  # everything it answers (the held words and this utterance)
    release_at: float = 0.0  # monotonic: not played before (a MAYBE piece's hold), 0 = at the end
    confirmed: bool = False  # the utterance ended; waiting for release_at
    contested: bool = False  # confirmed, then speech began: words withdraw it, noise releases it
    sooner: asyncio.Event = field(default_factory=asyncio.Event)  # release_at was moved earlier


@dataclass
class Heard:
    """What the user said in this turn so far (one or more utterances merged)."""

    audio: np.ndarray
    transcription: Transcription
    speech_end: float  # monotonic time of the last speech sample
    stt_ms: float = 0.0  # transcription time (sum over pieces)
    pieces: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.transcription.text


def merge(earlier: Heard | None, audio: np.ndarray, part: Transcription, speech_end: float, stt_ms: float) -> Heard:
    """One user turn from an earlier held/withdrawn piece and a new one (audio and text)."""
    if earlier is None:
        return Heard(audio, part, speech_end, stt_ms, [part.text])
    text = " ".join(t for t in (earlier.text.strip(), part.text.strip()) if t)
    confs = [c for c in (earlier.transcription.confidence, part.confidence) if c is not None]
    t = Transcription(text, part.language or earlier.transcription.language, min(confs) if confs else None,
                      earlier.transcription.audio_seconds + part.audio_seconds, part.model)
    return Heard(np.concatenate([earlier.audio, audio]), t, speech_end, earlier.stt_ms + stt_ms,
                 [*earlier.pieces, part.text])


class VoiceLoop:
    def __init__(self, engine: TurnEngine, mic: Any, endpointer: Any, *, config: LoopConfig | None = None,
                 sink: EventSink | None = None, wake: Any = None,
                 chime: Callable[[str], None] | None = None) -> None:
        self.engine = engine
        self.wake = wake  # a WakeWordDetector, or None: always listening
        self.echo_unsettled: Callable[[], bool] | None = None  # the canceller is re-converging
        self.chime = chime  # plays the "wake"/"sleep" earcon
        # audio.turn_model.SmartTurn (or None): a MAYBE piece whose voice sounds finished is
        # released without its hold (the words still decide everything else)
        self.turn_model: Any = None
        self.voice_said_complete = 0  # MAYBE holds the voice shortened
        self.voice_said_incomplete = 0  # ... and kept
        self.awake = wake is None
        self.wakes: list[float] = []  # monotonic times of wake-word detections
        self.sleeps = 0
        self._awake_until = 0.0
        self._recent: deque[np.ndarray] = deque()  # the last wake_preroll_ms of audio, while asleep
        self._recent_len = 0
        self._ep_fed = 0  # samples fed to the endpointer since its last reset
        self._strip_until_sample = -1  # utterances starting before this endpointer sample may hold the phrase
        self.mic = mic
        self.endpointer = endpointer
        self.config = config or LoopConfig()
        self.sink = sink
        self.results: list[TurnResult] = []
        self.barge_ins: list[BargeIn] = []
        self.retracted: list[TurnResult] = []  # turns withdrawn because the user kept talking
        self._warm_task: asyncio.Task[None] | None = None
        self._warmed_at = -1e9
        self.speculative_hits = 0  # utterances whose early transcription was used
        self.speculative_misses = 0  # early transcriptions dropped because speech resumed
        self.speculative_turns_used = 0  # turns started at a pause and confirmed by the silence
        self.speculative_turns_dropped = 0  # turns started at a pause and withdrawn (the user went on)
        self._spec_turn: _SpeculativeTurn | None = None
        self._caption_task: asyncio.Task[None] | None = None
        self._caption_at = -1e9
        self.captions_sent = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[TurnResult]] = []
        self._fed = 0
        self._epoch = 0  # bumped at every speech start: work begun before it may be stale
        self._spec: tuple[int, str, asyncio.Task[tuple[Transcription, float]]] | None = None
        self._pending: Heard | None = None  # held (sounds unfinished) or withdrawn, waiting for more
        self._hold: asyncio.Task[None] | None = None
        self._submitted: tuple[Heard, asyncio.Task[TurnResult]] | None = None
        self._order = asyncio.Lock()  # utterances are finalised in the order they ended
        self._background: set[asyncio.Task[Any]] = set()
        self._spoke_until = -1e9  # monotonic: the last time the engine was seen playing

    def stop(self) -> None:
        self._stop.set()

    def _set_threshold(self, captured_at: float | None = None) -> None:
        """Raise the bar for speech while the assistant's voice can reach the microphone: during
        playback, and for blocks captured up to ``playback_tail_ms`` after it was last seen (blocks
        are judged by when they were captured, so a backlog of echo read late is still guarded)."""
        cfg = self.config
        now = time.monotonic()
        if self.engine.speaking:
            self._spoke_until = now
        at = now if captured_at is None else captured_at
        raised = at < self._spoke_until + cfg.playback_tail_ms / 1000 and not cfg.headphones
        settled = cfg.echo_cancelled and not (self.echo_unsettled is not None and self.echo_unsettled())
        during = cfg.threshold_during_playback_aec if settled else cfg.threshold_during_playback
        if hasattr(self.endpointer, "set_confirm_threshold"):
            # Onset at the normal threshold (no first words lost), confirmation at the raised one (echo).
            if abs(self.endpointer.threshold - cfg.threshold) > 1e-9:
                self.endpointer.set_threshold(cfg.threshold)
            want_confirm = during if raised else None
            if self.endpointer.confirm_threshold != want_confirm:
                self.endpointer.set_confirm_threshold(want_confirm)
            return
        want = during if raised else cfg.threshold
        if abs(self.endpointer.threshold - want) > 1e-9:
            self.endpointer.set_threshold(want)

    async def run(self) -> list[TurnResult]:
        loop = asyncio.get_running_loop()
        blocks: asyncio.Queue[Block] = asyncio.Queue()
        unsubscribe = self.mic.subscribe(lambda b: loop.call_soon_threadsafe(blocks.put_nowait, b))
        if self.sink:
            self.sink(StateChanged(TurnState.LISTENING))
        try:
            while not self._stop.is_set():
                get = asyncio.ensure_future(blocks.get())
                stop = asyncio.ensure_future(self._stop.wait())
                done, _ = await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if get not in done:
                    get.cancel()
                    break
                self._on_block(get.result())
                if self.config.max_turns is not None and len(self.results) >= self.config.max_turns:
                    break
        finally:
            unsubscribe()
            for t in list(self._background):
                t.cancel()
            for t in list(self._background):
                with contextlib.suppress(BaseException):
                    await t
            await self.engine.aclose()
        return self.results

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _on_block(self, block: Block) -> None:
        self._set_threshold(block.captured_at)
        samples = block.samples
        self._fed += len(samples)
        if self.sink is not None and samples.size:
            peak = float(np.max(np.abs(samples)))
            rms = float(np.sqrt(np.mean(np.square(samples))))
            self.sink(InputLevel(20 * np.log10(max(rms, 1e-6)), 20 * np.log10(max(peak, 1e-6))))
        if self.wake is not None:
            gated = self._wake_step(samples)
            if gated is None:
                return
            samples = gated
        self._ep_fed += len(samples)
        for event in self.endpointer.feed(samples):
            if hasattr(event, "reason"):
                self._on_speech_end(event, block)
            elif hasattr(event, "audio"):
                self._on_pause(event, block)
            else:
                onset = block.captured_at - (self._ep_fed - getattr(event, "sample", self._ep_fed)) / RATE
                self._on_speech_start(onset)
        if self.config.live_captions:
            self._maybe_caption()

    def _maybe_caption(self) -> None:
        ep = self.endpointer
        if (self.sink is None or self.engine.stt is None or not hasattr(ep, "utterance_so_far")
                or not ep.in_speech or ep.silent_ms > 0):
            return
        if self._caption_task is not None and not self._caption_task.done():
            return
        now = time.monotonic()
        if now - self._caption_at < self.config.caption_interval_s:
            return
        audio = ep.utterance_so_far()
        if audio is None or len(audio) < RATE // 2:
            return
        self._caption_at = now
        earlier = self._pending.text if self._pending is not None else ""
        self._caption_task = self._spawn(self._caption(audio, earlier, self._epoch))

    async def _caption(self, audio: np.ndarray, earlier: str, epoch: int) -> None:
        # no earlier turns as the prompt: a caption is thrown away, and with the last turns as its
        # prompt tiny.en often wrote a short utterance twice, so the caption took two decodes (or the
        # 20 s window) and the final transcription at the pause waited behind it (#12, v2v trials:
        # transcript ready 0.3-0.8 s after the endpoint instead of at it)
        part, _ = await self._transcribe(audio, earlier, context=False)
        text = " ".join(t for t in (earlier.strip(), part.text.strip()) if t)
        if text and self._epoch == epoch and self.endpointer.in_speech and self.sink is not None:
            self.captions_sent += 1
            self.sink(PartialTranscript(text))

    def _wake_step(self, samples: np.ndarray) -> np.ndarray | None:
        """Run the wake-word detector; the audio the endpointer should get now, or None (asleep)."""
        cfg = self.config
        now = time.monotonic()
        detections = self.wake.feed(samples)
        keep = int(RATE * cfg.wake_preroll_ms / 1000)
        self._recent.append(samples)
        self._recent_len += len(samples)
        while self._recent and self._recent_len - len(self._recent[0]) >= keep:
            self._recent_len -= len(self._recent.popleft())
        if detections:
            self._on_wake(now)
            audio = np.concatenate(list(self._recent)) if self._recent else samples
            audio = audio[-keep:] if keep else audio[:0]
            self._recent.clear()
            self._recent_len = 0
            return audio
        if not self.awake:
            return None
        busy = (self.endpointer.in_speech or self.engine.busy or self._pending is not None
                or bool(self._background))
        if busy:
            self._awake_until = now + cfg.wake_idle_s
        elif now > self._awake_until:
            self._go_to_sleep()
            return None
        return samples

    def _on_wake(self, now: float) -> None:
        self.wakes.append(now)
        log.info("wake word heard")
        engine = self.engine
        if engine.busy:  # the phrase during playback (or thinking) is an interruption
            task = engine._current
            engine.interrupt()
            self.barge_ins.append(BargeIn(now, time.monotonic(), task))
        self.endpointer.reset()  # a fresh utterance starts at the pre-roll
        self._ep_fed = 0
        self._strip_until_sample = int(RATE * (self.config.wake_preroll_ms / 1000 + 0.5))
        self.awake = True
        self._awake_until = now + self.config.wake_idle_s
        if self.sink:
            self.sink(StateChanged(TurnState.LISTENING))
        self._play_chime("wake")

    def _go_to_sleep(self) -> None:
        self.awake = False
        self.sleeps += 1
        self.endpointer.reset()
        self._ep_fed = 0
        log.info("no speech for %.0f s: back to sleep (say the wake word)", self.config.wake_idle_s)
        self._play_chime("sleep")

    def _play_chime(self, kind: str) -> None:
        if self.chime is None:
            return
        try:
            self.chime(kind)
        except Exception as exc:  # a chime is a courtesy: never stop listening over it
            log.debug("earcon failed: %s", exc)

    def _on_speech_start(self, onset: float | None = None) -> None:
        self._epoch += 1
        self._caption_at = time.monotonic() - self.config.caption_interval_s / 2  # first caption after ~0.5 s
        if self._hold is not None:
            self._hold.cancel()  # the user goes on: the held piece waits for the rest
            self._hold = None
        if self.sink:
            self.sink(StateChanged(TurnState.HEARING))
        engine = self.engine
        self._warm_connections()
        st = self._spec_turn
        if st is not None and st.confirmed:
            st.contested = True  # its utterance ended: is this the user going on, or a breath?
            return
        if self._drop_speculative_turn():
            return
        if not engine.busy:
            return
        sub = self._submitted
        if sub is not None and sub[1] is engine._current and engine.retract(onset):
            # Started, but nothing heard yet: not an interruption, the user simply was not done.
            self._pending = sub[0]
            self._submitted = None
            log.info("turn withdrawn: the user kept talking before the reply was heard")
            return
        if self.config.barge_in:
            detected = time.monotonic()
            task = engine._current
            speaking = engine.speaking
            engine.interrupt()  # silences the speaker first, then winds the turn down
            if speaking:  # a turn that is only being stored after its last word is not interrupted
                self.barge_ins.append(BargeIn(detected, time.monotonic(), task))
                log.info("barge-in: the user spoke while the assistant was answering")

    def reconfigure(self, config: LoopConfig, endpointer: Any | None = None) -> None:
        """Settings saved while listening take effect at once (issue #21: a new silence length
        reached only the next hands-free start). What the running loop found out itself (whether
        the capture path cancels echo) and the caller's turn limit are kept."""
        self.config = replace(config, echo_cancelled=self.config.echo_cancelled, max_turns=self.config.max_turns)
        if endpointer is not None and hasattr(self.endpointer, "reconfigure"):
            self.endpointer.reconfigure(endpointer)

    def _warm_connections(self) -> None:
        """At speech start, connect the LLM and TTS clients (at most every 20 s, one at a time):
        by the end of the utterance the turn's requests reuse open keep-alive connections."""
        now = time.monotonic()
        if (self._warm_task is not None and not self._warm_task.done()) or now - self._warmed_at < 20.0:
            return
        self._warmed_at = now
        self._warm_task = asyncio.get_running_loop().create_task(self.engine.warm())

    def _on_pause(self, event: Any, block: Block) -> None:
        if not self.config.speculative or self.engine.stt is None:
            return
        earlier = self._pending.text if self._pending is not None else ""
        if self._spec is not None:
            self.speculative_misses += 1  # speech resumed after the previous pause
        spec = (event.end_sample, earlier, self._spawn(self._transcribe(event.audio, earlier)))
        self._spec = spec
        if self.config.speculative_turn:
            speech_end = block.captured_at - (self._ep_fed - event.end_sample) / RATE
            self._spawn(self._speculate(spec, event.audio, speech_end, self._epoch))

    async def _speculate(self, spec: tuple[int, str, asyncio.Task[tuple[Transcription, float]]],
                         audio: np.ndarray, speech_end: float, epoch: int) -> None:
        """Start the turn at the pause if, once transcribed, nothing has changed and it sounds done."""
        part, ms = await spec[2]
        if (self._spec is not spec or self._epoch != epoch or self.endpointer.in_speech or self.engine.busy
                or self._spec_turn is not None):
            return  # the utterance ended meanwhile (the normal path has it), or the user went on
        text = part.text.strip()
        finish = judge(text) if text else Finish.UNFINISHED
        if finish is Finish.UNFINISHED:
            return  # nothing heard, or more is surely coming: the end-of-turn hold decides later
        # a piece that only may go on is prepared now and released after its (shorter) hold
        release_at = speech_end + self.config.maybe_hold_ms / 1000.0 if finish is Finish.MAYBE else 0.0
        before = self._pending
        self._pending = None
        self._start_gated(spec[0], before, merge(before, audio, part, speech_end, ms), release_at)

    def _start_gated(self, end_sample: int, before: Heard | None, heard: Heard, release_at: float,
                     *, confirmed: bool = False, endpoint: float | None = None) -> _SpeculativeTurn:
        """Start the turn now (LLM request, first speech chunk) but let nothing be heard or stored
        until its gate opens: at the end of the utterance, or ``release_at`` (a MAYBE hold)."""
        gate = asyncio.Event()
        user = UserInput(audio=heard.audio, speech_end=heard.speech_end, transcription=heard.transcription,
                         stt_latency_ms=round(heard.stt_ms, 1), commit=gate, endpoint_detected=endpoint)
        task = self.engine.start_turn(user)
        self._submitted = (heard, task)
        st = _SpeculativeTurn(end_sample, before, user, gate, task, heard, release_at, confirmed)
        self._spec_turn = st
        task.add_done_callback(self._collect)
        self._tasks.append(task)
        if release_at > 0 and self.turn_model is not None:
            self._spawn(self._ask_the_voice(st, heard.audio))
        if confirmed:
            self._spawn(self._release_later(st))
        return st

    async def _ask_the_voice(self, st: _SpeculativeTurn, audio: np.ndarray) -> None:
        """A MAYBE piece ("Ten of clubs"): if the voice sounds finished, drop the hold, so the reply is
        released when the silence confirms the utterance (at once if it already has). The reply is
        already being prepared meanwhile; the model's ~0.1 s only decides when it may be heard."""
        try:
            done = await asyncio.to_thread(self.turn_model.is_complete, audio)
        except Exception as exc:  # a model that fails mid-session costs the hold, never the turn
            log.warning("end-of-turn model failed (%s): the maybe hold stands", type(exc).__name__)
            return
        if not done:
            self.voice_said_incomplete += 1
            return
        self.voice_said_complete += 1
        if self._spec_turn is st and not st.task.done():
            st.release_at = 0.0
            st.sooner.set()

    def _release(self, st: _SpeculativeTurn) -> None:
        if self._spec_turn is st:
            self._spec_turn = None
        self.speculative_turns_used += 1
        st.gate.set()

    async def _release_later(self, st: _SpeculativeTurn) -> None:
        while (wait := st.release_at - time.monotonic()) > 0:  # the voice may move release_at earlier
            st.sooner.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(st.sooner.wait(), wait)
        if self._spec_turn is st and not st.task.done() and not st.contested:
            self._release(st)  # (contested: the piece being spoken decides, in _settle_contest)

    async def _settle_contest(self, st: _SpeculativeTurn, audio: np.ndarray, speech_end: float,
                              endpoint: float, epoch: int, strip: bool) -> None:
        """Speech began while a MAYBE turn waited out its hold. A breath or a click (nothing Whisper
        can write, or only its prompt again) counts as silence: the prepared reply is released when the
        hold, counted from the last word, ends (at once if that is past). Words withdraw it and join the
        held ones. Without this a blip after "Ten of clubs" withdrew nothing yet cost the blip, the
        silence after it and a fresh LLM request."""
        assert st.heard is not None
        async with self._order:
            part, ms = await self._transcribe(audio, st.heard.text)
        if self._spec_turn is not st or st.task.done():
            return
        if not part.text.strip():
            st.contested = False
            if time.monotonic() >= st.release_at:
                self._release(st)
            else:
                self._spawn(self._release_later(st))
            return
        self._drop_speculative_turn()  # the user went on: the held words come back as pending
        done: asyncio.Future[tuple[Transcription, float]] = asyncio.get_running_loop().create_future()
        done.set_result((part, ms))
        earlier = self._pending.text if self._pending is not None else ""
        await self._complete(audio, speech_end, endpoint, (0, earlier, done), epoch, strip)  # type: ignore[arg-type]

    def _drop_speculative_turn(self) -> bool:
        """The user went on talking: withdraw the turn started at the pause, unheard.

        The words it took over return as held words (the whole utterance is transcribed again at its
        end, so the speculative transcript itself is not merged, which would repeat it)."""
        st, self._spec_turn = self._spec_turn, None
        if st is None:
            return False
        if self._submitted is not None and self._submitted[1] is st.task:
            self._submitted = None
        if st.task is self.engine._current and self.engine.retract():
            self.speculative_turns_dropped += 1
            # before its utterance ended, the next end transcribes that utterance whole again; after
            # it (waiting out a MAYBE hold) those words are only in the withdrawn turn: keep them
            self._pending = st.heard if st.confirmed else st.pending_before
            log.info("speculative turn withdrawn: the user went on talking")
            return True
        return False

    def _on_speech_end(self, event: Any, block: Block) -> None:
        now = time.monotonic()
        speech_end = block.captured_at - (self._ep_fed - event.end_sample) / RATE
        strip = self.wake is not None and event.start_sample < self._strip_until_sample
        spec, self._spec = self._spec, None
        st = self._spec_turn
        if st is not None and st.contested and not st.task.done():
            self._spawn(self._settle_contest(st, event.audio, speech_end, now, self._epoch, strip))
            return
        if st is not None and st.end_sample == event.end_sample and not st.task.done():
            st.user.endpoint_detected = now
            self.speculative_hits += 1
            if now >= st.release_at:
                self._release(st)  # confirmed by the silence: let it play and be stored
            else:
                st.confirmed = True  # a MAYBE piece: more silence first (speech now withdraws it)
                self._spawn(self._release_later(st))
            return
        if st is not None:
            self._drop_speculative_turn()
        if spec is not None and spec[0] != event.end_sample:
            self.speculative_misses += 1
            spec = None
        if self.engine.stt is None:  # nothing to transcribe with here: the engine does it (typed-only setups)
            self._submit_audio(event.audio, speech_end, now)
            return
        self._spawn(self._complete(event.audio, speech_end, now, spec, self._epoch, strip))

    async def _transcribe(self, audio: np.ndarray, earlier: str, *,
                          context: bool = True) -> tuple[Transcription, float]:
        engine = self.engine
        stt = engine.stt
        assert stt is not None
        started = time.monotonic()
        prompt = engine.stt_prompt(earlier) if context else (earlier.strip() or None)
        result = await asyncio.to_thread(stt.transcribe, audio, language=engine.config.language, prompt=prompt)
        if is_prompt_echo(result.text, prompt):  # Whisper wrote its prompt again: nothing was said
            log.info("dropped a piece that only repeated Whisper's prompt (%d chars)", len(result.text))
            result = Transcription("", result.language, result.confidence, result.audio_seconds, result.model)
        return result, (time.monotonic() - started) * 1000.0

    async def _complete(self, audio: np.ndarray, speech_end: float, endpoint: float,
                        spec: tuple[int, str, asyncio.Task[tuple[Transcription, float]]] | None, epoch: int,
                        strip: bool = False) -> None:
        async with self._order:
            earlier = self._pending
            earlier_text = earlier.text if earlier is not None else ""
            if spec is not None and spec[1] == earlier_text:
                part, ms = await spec[2]
                self.speculative_hits += 1
            else:
                part, ms = await self._transcribe(audio, earlier_text)
            if strip and self.wake is not None:
                from synthbot_desktop.audio.wake_word import strip_phrase

                text = strip_phrase(part.text, self.wake.name)
                if not text:  # only the phrase (or its tail) was heard: wait for the request
                    return
                part = Transcription(text, part.language, part.confidence, part.audio_seconds, part.model)
            # a new piece that was only noise leaves the held words as the turn
            heard = earlier if earlier is not None and not part.text.strip() else merge(
                earlier, audio, part, speech_end, ms)
            self._pending = None
            if self._epoch != epoch:  # the user already started again: wait for the rest
                self._pending = heard
                return
            finish = judge(part.text)
            hold = self.config.incomplete_hold_ms if finish is Finish.UNFINISHED else self.config.maybe_hold_ms
            if (finish is Finish.MAYBE and hold > 0 and self.config.speculative_turn and not self.engine.busy
                    and self._spec_turn is None):
                # probably over: ask the model now, let it be heard when the hold ends
                self._start_gated(-1, earlier, heard, heard.speech_end + hold / 1000.0, confirmed=True,
                                  endpoint=endpoint)
                return
            if hold > 0 and part.text.strip() and finish is not Finish.COMPLETE:
                self._pending = heard
                self._hold = self._spawn(self._hold_then_answer(heard.speech_end + hold / 1000.0, epoch))
                return
            self._submit(heard, endpoint)

    async def _hold_then_answer(self, deadline: float, epoch: int) -> None:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        heard = self._pending
        if heard is None or self._epoch != epoch or self.endpointer.in_speech:
            return
        self._pending = None
        self._hold = None
        self._submit(heard, time.monotonic())

    def _submit(self, heard: Heard, endpoint: float) -> None:
        task = self.engine.start_turn(UserInput(audio=heard.audio, speech_end=heard.speech_end,
                                                endpoint_detected=endpoint, transcription=heard.transcription,
                                                stt_latency_ms=round(heard.stt_ms, 1)))
        self._submitted = (heard, task)
        task.add_done_callback(self._collect)
        self._tasks.append(task)

    def _submit_audio(self, audio: np.ndarray, speech_end: float, endpoint: float) -> None:
        task = self.engine.start_turn(UserInput(audio=audio, speech_end=speech_end, endpoint_detected=endpoint))
        task.add_done_callback(self._collect)
        self._tasks.append(task)

    def _collect(self, task: asyncio.Task[TurnResult]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("turn failed: %s", exc)
            return
        result = task.result()
        (self.retracted if result.retracted else self.results).append(result)
