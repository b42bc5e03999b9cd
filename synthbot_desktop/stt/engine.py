"""Speech to text with faster-whisper: loaded once, warmed up, safe to call from any thread.

Whisper encodes a 30 s window whatever the clip length, so a 1 s utterance costs nearly as much
as a 10 s one: the pipeline transcribes whole utterances (speculatively at a short pause, see
``pipeline.voice_loop``). Greedy decoding (beam 1) is the default: on jfk.flac it makes the same
words as beam 5 (WER 0 %) about 12 % faster. The model is loaded
once (about 0.6 s for tiny.en here) and warmed up with one short decode so the user's first
sentence does not pay for lazy initialisation. Calls are serialised by a lock — two decodes at
once on two cores only slow each other down — and :meth:`WhisperEngine.transcribe_async` runs
the work on a dedicated worker thread so the asyncio loop (and the GUI) never block.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthbot_desktop.audio.formats import STT_RATE, load_audio_file
from synthbot_desktop.audio.levels import is_silent
from synthbot_desktop.errors import AudioError, ModelError
from synthbot_desktop.setting_keys import STT_LANGUAGE, STT_MODEL
from synthbot_desktop.stt.models import ResolvedModel, resolve_model

log = logging.getLogger(__name__)

SILENCE_DBFS = -60.0
"""Clips whose peak stays below this are not sent to Whisper (it invents words for silence)."""

FULL_WINDOW_S = 30.0
"""Whisper's trained window; file transcription always uses it."""
LIVE_WINDOW_FLOOR_S = 10.0
"""Shortest encoder window for live turns. Measured (issue #12, 28 English clips, tiny.en): a 10 s
floor keeps WER at or below the full window; a 6 s floor made one clip loop ("10 of clubs" x50)."""
LIVE_WINDOW_MARGIN_S = 1.0
"""Silence after the utterance inside the window, so the decoder sees the speech end."""
LIVE_TOKENS_PER_S = 15
"""Token budget of a short-window decode per second of audio (fast speech is ~4 words, ~6 tokens, a
second). A looping decode used to run to Whisper's 223-token limit before the guard saw it: 0.45 s of
the 0.8 s that "10 of clubs" cost on tiny.en, before the full-window retry (v2v benchmark, issue #12)."""
LIVE_TOKENS_MIN = 32
MAX_COMPRESSION_RATIO = 2.4
"""Same threshold faster-whisper uses for its temperature fallback: above it the text repeats."""


@dataclass(frozen=True)
class EngineOptions:
    model: str = "tiny.en"
    language: str | None = None  # None = detect
    beam_size: int = 5
    compute_type: str = "int8"
    device: str = "cpu"
    cpu_threads: int = 0  # 0 = CTranslate2's default
    vad_filter: bool = False  # utterances from the endpointer are already trimmed
    live_window_floor_s: float = LIVE_WINDOW_FLOOR_S  # 0 or >= 30 turns the adaptive window off
    # a rejected short-window decode that had a prompt is tried once more without it, at the same
    # window, before the doubled one (False: the old order, kept for benchmarks.bench_stt_prompted)
    retry_without_prompt: bool = True

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> EngineOptions:
        language = settings.value(STT_LANGUAGE) or "auto"
        values: dict[str, Any] = {
            "model": settings.value(STT_MODEL) or "tiny.en",
            "language": None if language == "auto" else language,
            "beam_size": settings.get_int("stt.beam_size"),
            "compute_type": settings.get_str("stt.compute_type"),
            "device": settings.get_str("stt.device"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[Segment]
    language: str | None
    language_probability: float | None
    avg_logprob: float | None  # duration-weighted mean over segments
    no_speech_prob: float | None  # highest over segments
    audio_seconds: float
    elapsed_seconds: float  # wall time of the decode (excludes file decoding)
    decode_seconds: float = 0.0  # file decoding/resampling, for transcribe_file
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def confidence(self) -> float | None:
        """exp(avg_logprob): a 0..1 figure for the GUI and the messages table."""
        return None if self.avg_logprob is None else math.exp(self.avg_logprob)

    @property
    def rtf(self) -> float:
        return self.elapsed_seconds / self.audio_seconds if self.audio_seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        """The CLI's documented shape plus confidence details."""
        return {
            "text": self.text, "language": self.language,
            "segments": [{"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text} for s in self.segments],
            "audio_seconds": round(self.audio_seconds, 3), "elapsed_seconds": round(self.elapsed_seconds, 3),
            "avg_logprob": self.avg_logprob, "no_speech_prob": self.no_speech_prob, "model": self.model,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadReport:
    model: str
    path: str
    load_seconds: float
    warmup_seconds: float


def live_window_seconds(audio_s: float, floor_s: float = LIVE_WINDOW_FLOOR_S) -> float:
    """Encoder window for a live utterance: the audio plus a margin, never under the floor or over 30 s."""
    return min(FULL_WINDOW_S, max(floor_s, audio_s + LIVE_WINDOW_MARGIN_S))


def live_token_budget(audio_s: float, model_limit: int) -> int:
    """New tokens a short-window decode may generate for ``audio_s`` seconds of speech; reaching
    the budget is treated like a loop (the caller retries on the full window)."""
    return max(1, min(model_limit, max(LIVE_TOKENS_MIN, int(audio_s * LIVE_TOKENS_PER_S))))


def decode_looks_bad(text: str, hit_length_limit: bool) -> bool:
    """The known failure of a short window: the decoder loops ("10 of clubs" x50).

    Caught four ways: it ran to the token limit without end-of-text; the text compresses too well
    (gzip ratio > 2.4, as faster-whisper's own fallback); one word n-gram fills most of it; or it
    ends with the same phrase of two or more words twice in a row ("10 of clubs 10 of clubs", found
    by the GUI soak: a loop of two passes the other checks). A person who really repeats a phrase
    loses nothing: the full-window retry is accepted as it is.
    """
    if hit_length_limit:
        return True
    if not text:
        return False
    from faster_whisper.transcribe import get_compression_ratio

    if len(text) > 24 and get_compression_ratio(text) > MAX_COMPRESSION_RATIO:
        return True
    words = text.lower().split()
    if ends_with_repeated_phrase(words):
        return True
    for n in (1, 2, 3, 4):
        grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
        if len(grams) >= 8:
            top = max(grams.count(g) for g in set(grams))
            if top * n >= 0.6 * len(words) and top >= 5:
                return True
    return False


def ends_with_repeated_phrase(words: list[str]) -> bool:
    """True when the last ``n >= 2`` words (punctuation ignored) are the ``n`` words before them."""
    bare = [w.strip(".,!?;:\"'") for w in words]
    bare = [w for w in bare if w]
    return any(bare[-2 * n:-n] == bare[-n:] for n in range(2, len(bare) // 2 + 1))


class WhisperEngine:
    """One faster-whisper model for the whole process."""

    def __init__(self, options: EngineOptions | None = None, **overrides: Any) -> None:
        base = options or EngineOptions()
        self.options = EngineOptions(**{**asdict(base), **{k: v for k, v in overrides.items() if v is not None}})
        self._model: Any = None
        self._resolved: ResolvedModel | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.load_report: LoadReport | None = None
        self.window_retries = 0  # short-window decodes rejected by the guard (for tests and diagnostics)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> WhisperEngine:
        return cls(EngineOptions.from_settings(settings, **overrides))

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model_name(self) -> str:
        return self._resolved.name if self._resolved else self.options.model

    def load(self, *, warm_up: bool = True, progress: Callable[[int, int], None] | None = None) -> LoadReport:
        """Resolve, load and warm up the model (once; later calls return the first report).
        ``progress(done, total)`` follows a first-use assembly of the multilingual model."""
        with self._load_lock:
            if self.load_report is not None:
                return self.load_report
            resolved = resolve_model(self.options.model, progress=progress)
            t0 = time.perf_counter()
            try:
                from faster_whisper import WhisperModel

                model = WhisperModel(str(resolved.path), device=self.options.device,
                                     compute_type=self.options.compute_type, cpu_threads=self.options.cpu_threads,
                                     local_files_only=True)
            except Exception as exc:
                raise ModelError(f"cannot load the Whisper model at {resolved.path}: {exc}",
                                 hint="the model files may be damaged: copy the folder again, or use stt.model = tiny.en"
                                 ) from None
            load_s = time.perf_counter() - t0
            self._model, self._resolved = model, resolved
            warm_s = 0.0
            if warm_up:
                t1 = time.perf_counter()
                self._warm_up()
                warm_s = time.perf_counter() - t1
            self.load_report = LoadReport(resolved.name, str(resolved.path), load_s, warm_s)
            log.info("whisper %s loaded in %.2f s, warm-up %.2f s", resolved.name, load_s, warm_s)
            return self.load_report

    def _warm_up(self) -> None:
        """One short greedy decode: allocates CTranslate2's buffers and the feature extractor's FFT plans."""
        rng = np.random.default_rng(0)
        t = np.arange(STT_RATE) / STT_RATE
        clip = (0.1 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(STT_RATE)).astype(np.float32)
        with self._lock:
            segments, _ = self._model.transcribe(clip, beam_size=1, language="en" if self._english_only() else None,
                                                 without_timestamps=True, max_new_tokens=8,
                                                 condition_on_previous_text=False, temperature=0.0)
            for _ in segments:
                pass

    def _english_only(self) -> bool:
        model = self._model
        return model is not None and getattr(model, "model", None) is not None and not model.model.is_multilingual

    def transcribe(self, audio: np.ndarray, *, language: str | None = None, prompt: str | None = None,
                   live: bool = False, on_progress: Callable[[float, float], None] | None = None) -> Transcript:
        """Transcribe float32 mono 16 kHz samples. Thread-safe; loads the model on first use.

        ``on_progress(seconds_done, seconds_total)`` is called after each decoded segment, so long
        recordings can show progress.

        ``live=True`` is for utterances cut by the endpointer (a few seconds, one turn): no timestamp
        tokens and no conditioning on the previous 30 s window, which cost decode steps and buy
        nothing for a clip that fits one window (the segment then spans the whole clip).
        """
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise AudioError(f"expected mono samples (1-D), got shape {samples.shape}",
                             hint="mix down to mono first (synthbot_desktop.audio.formats.to_mono)")
        if not np.all(np.isfinite(samples)):
            raise AudioError("the audio contains NaN or infinite samples", hint="check the audio source")
        if self._model is None:
            self.load()
        audio_s = len(samples) / STT_RATE
        lang = language or self.options.language
        if lang == "auto":
            lang = None
        if self._english_only() and lang not in (None, "en"):
            log.warning("model %s understands English only; ignoring language '%s'", self.model_name, lang)
            lang = "en"
        if samples.size == 0 or is_silent(samples, SILENCE_DBFS):
            return Transcript("", [], lang, None, None, None, audio_s, 0.0, model=self.model_name)
        if live and self._adaptive_ok(lang, audio_s):
            with self._lock:
                t0 = time.perf_counter()
                window = live_window_seconds(audio_s, self.options.live_window_floor_s)
                short = self._decode_window(samples, lang or "en", window, prompt)
                if short is None and prompt and self.options.retry_without_prompt:
                    # with the last turns as its prompt, tiny.en often writes the utterance twice
                    # ("7 of clubs. 7 of clubs.", "Go forward 10 meters." x2): the same window without
                    # the prompt decodes it once in ~0.1 s; the doubled window cost ~0.3-0.45 s
                    self.window_retries += 1
                    short = self._decode_window(samples, lang or "en", window, None)
                if short is None and window * 2 < FULL_WINDOW_S:
                    # a loop at this window: twice the window first (ps_cards_001 loops at 10 s and
                    # decodes right at 15-20 s in 0.16 s; the full window costs 0.3 s on tiny.en)
                    self.window_retries += 1
                    short = self._decode_window(samples, lang or "en", window * 2, prompt)
                elapsed = time.perf_counter() - t0
            if short is not None:
                s_text, s_avg, s_nsp, window_s = short
                seg = [Segment(0.0, audio_s, s_text, s_avg, s_nsp)] if s_text else []
                return Transcript(s_text, seg, lang or "en", None, s_avg if s_text else None,
                                  s_nsp if s_text else None,
                                  audio_s, elapsed, model=self.model_name,
                                  timings={"window_seconds": window_s, "retried": 0.0})
            log.info("short-window decode rejected (repetition / no end-of-text); retrying on the full window")
            self.window_retries += 1
        with self._lock:
            t0 = time.perf_counter()
            extra: dict[str, Any] = {"without_timestamps": True, "condition_on_previous_text": False} if live else {}
            raw_segments, info = self._model.transcribe(samples, language=lang, beam_size=self.options.beam_size,
                                                        initial_prompt=prompt or None,
                                                        vad_filter=self.options.vad_filter, **extra)
            segments = []
            for raw in raw_segments:  # a generator: Whisper decodes window by window as we iterate
                segments.append(Segment(raw.start, raw.end, raw.text.strip(), raw.avg_logprob, raw.no_speech_prob))
                if on_progress is not None:
                    on_progress(min(raw.end, audio_s), audio_s)
            elapsed = time.perf_counter() - t0
        text = " ".join(s.text for s in segments if s.text).strip()
        weights = [max(s.end - s.start, 1e-3) for s in segments]
        avg = (sum(w * s.avg_logprob for w, s in zip(weights, segments, strict=True)) / sum(weights)) if segments else None
        nsp = max((s.no_speech_prob for s in segments), default=None)
        return Transcript(text, segments, info.language, info.language_probability, avg, nsp, audio_s, elapsed,
                          model=self.model_name)

    def _adaptive_ok(self, lang: str | None, audio_s: float) -> bool:
        """The short window needs a known language (no detection pass) and a clip that fits it."""
        floor = self.options.live_window_floor_s
        if floor <= 0 or floor >= FULL_WINDOW_S:
            return False
        if audio_s + LIVE_WINDOW_MARGIN_S > FULL_WINDOW_S:
            return False
        return lang is not None or self._english_only()

    def _decode_window(self, samples: np.ndarray, lang: str, window_s: float,
                       initial_prompt: str | None = None) -> tuple[str, float, float, float] | None:
        """Encode only ``window_s`` seconds of mel frames and decode greedily/with the beam.

        faster-whisper always pads the features to 3,000 frames; the CTranslate2 encoder accepts
        fewer, so we compute the features with faster-whisper's own extractor, pad to the short
        window and call ``encode``/``generate`` ourselves (no fork). Returns None when the result
        fails the guard (see :func:`decode_looks_bad`), so the caller retries on the full window.
        """
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        model = self._model
        frames = round(window_s * 100)
        features = model.feature_extractor(samples)
        features = features[:, :frames]
        if features.shape[1] < frames:
            features = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=lang)
        # the earlier words of the utterance, as faster-whisper's initial_prompt does it
        previous = tokenizer.encode(" " + initial_prompt.strip()) if initial_prompt else []
        prompt = model.get_prompt(tokenizer, previous, without_timestamps=True)
        encoder_output = model.encode(features)
        max_new = live_token_budget(len(samples) / STT_RATE,
                                    model.max_length // 2 - 1 if hasattr(model, "max_length") else 223)
        result = model.model.generate(encoder_output, [prompt], beam_size=self.options.beam_size,
                                      max_length=max_new + len(prompt), return_scores=True,
                                      return_no_speech_prob=True, suppress_blank=True,
                                      suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        hit_limit = len(result.sequences_ids[0]) >= max_new
        if decode_looks_bad(text, hit_limit):
            return None
        length = len(tokens)
        avg = float(result.scores[0]) * length / (length + 1) if length else 0.0
        return text, avg, float(result.no_speech_prob), window_s

    def transcribe_file(self, path: str | Path, *, language: str | None = None, prompt: str | None = None) -> Transcript:
        """Decode any common audio file (wav, flac, mp3, ogg, ...) and transcribe it."""
        t0 = time.perf_counter()
        samples = load_audio_file(path)
        decode_s = time.perf_counter() - t0
        result = self.transcribe(samples, language=language, prompt=prompt)
        return Transcript(**{**{f: getattr(result, f) for f in result.__dataclass_fields__}, "decode_seconds": decode_s})

    async def transcribe_async(self, audio: np.ndarray, *, language: str | None = None,
                               prompt: str | None = None, live: bool = False) -> Transcript:
        """Run :meth:`transcribe` on the engine's worker thread, so the event loop stays responsive."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self.transcribe(audio, language=language, prompt=prompt, live=live))

    async def load_async(self) -> LoadReport:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.load)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._model = None
        self.load_report = None
