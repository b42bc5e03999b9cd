"""Settings -> pipeline configuration, in one place.

The CLI (`talk`) and the GUI build the same turn engine and voice loop; reading the settings
here keeps them from drifting apart (a new pipeline setting is honoured by both or neither).
"""

from __future__ import annotations

from typing import Any

from synthbot_desktop.audio.vad import EndpointerConfig
from synthbot_desktop.pipeline.turn import TurnConfig
from synthbot_desktop.pipeline.voice_loop import LoopConfig


def turn_config(settings: Any, *, prices: Any = None, voice_id: str | None = None,
                temperature: float | None = None) -> TurnConfig:
    language = str(settings.get("stt.language"))
    return TurnConfig(
        language=None if language == "auto" else language,
        use_context_prompt=bool(settings.get("stt.use_context_prompt")),
        temperature=float(settings.get("llm.temperature")) if temperature is None else temperature,
        max_tokens=int(settings.get("llm.max_tokens")),
        context_chars=int(settings.get("llm.context_tokens")) * 4,
        first_chunk_min_chars=int(settings.get("pipeline.first_chunk_min_chars")),
        chunk_max_chars=int(settings.get("pipeline.chunk_max_chars")),
        first_chunk_max_words=int(settings.get("pipeline.first_chunk_max_words")),
        voice_id=voice_id,
        prices=prices,
    )


def endpointer_config(settings: Any, *, silence_ms: int | None = None) -> EndpointerConfig:
    """The hands-free endpointer, with the short pause that starts early transcription."""
    overrides: dict[str, Any] = {"pause_ms": int(settings.get("pipeline.speculative_pause_ms"))}
    if silence_ms is not None:
        overrides["silence_ms"] = silence_ms
    return EndpointerConfig.from_settings(settings, **overrides)


def loop_config(settings: Any, *, barge_in: bool | None = None, headphones: bool | None = None,
                max_turns: int | None = None) -> LoopConfig:
    return LoopConfig(
        barge_in=bool(settings.get("audio.barge_in")) if barge_in is None else barge_in,
        headphones=bool(settings.get("audio.headphones")) if headphones is None else headphones,
        threshold=float(settings.get("audio.vad_threshold")),
        threshold_during_playback=float(settings.get("audio.vad_threshold_during_playback")),
        threshold_during_playback_aec=float(settings.get("audio.vad_threshold_during_playback_aec")),
        max_turns=max_turns,
        incomplete_hold_ms=int(settings.get("pipeline.incomplete_turn_hold_ms")),
        wake_idle_s=float(settings.get("audio.wake_word_idle_s")),
        wake_preroll_ms=int(settings.get("audio.wake_word_preroll_ms")),
    )


def wake_detector(settings: Any, *, name: str | None = None, warn: Any = None) -> Any:
    """The wake-word detector the settings (or ``--wake-word NAME``) ask for, or None.

    A wake word that cannot be used is reported through ``warn`` as one line and the caller
    goes on listening without it (push-to-talk / plain voice activity): never a deaf microphone.
    """
    from synthbot_desktop.audio.wake_word import WakeConfig, WakeWordError, load_detector

    try:
        return load_detector(WakeConfig.from_settings(settings, name=name))
    except WakeWordError as exc:
        if warn is not None:
            warn(f"wake word off: {exc.one_line()}")
        return None
