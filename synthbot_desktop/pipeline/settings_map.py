"""Settings -> pipeline configuration, in one place.

The CLI (`talk`) and the GUI build the same turn engine and voice loop; reading the settings
here keeps them from drifting apart (a new pipeline setting is honoured by both or neither).
"""

from __future__ import annotations

from typing import Any

from synthbot_desktop.audio.vad import EndpointerConfig
from synthbot_desktop.pipeline.turn import TurnConfig
from synthbot_desktop.pipeline.voice_loop import LoopConfig
from synthbot_desktop.setting_keys import TOOLS_FILLER_AFTER_S, TOOLS_MAX_ROUNDS


def turn_config(settings: Any, *, prices: Any = None, voice_id: str | None = None,
                temperature: float | None = None) -> TurnConfig:
    language = settings.get_str("stt.language")
    return TurnConfig(
        language=None if language == "auto" else language,
        use_context_prompt=settings.get_bool("stt.use_context_prompt"),
        temperature=settings.get_float("llm.temperature") if temperature is None else temperature,
        max_tokens=settings.get_int("llm.max_tokens"),
        context_chars=settings.get_int("llm.context_tokens") * 4,
        first_chunk_min_chars=settings.get_int("pipeline.first_chunk_min_chars"),
        chunk_max_chars=settings.get_int("pipeline.chunk_max_chars"),
        first_chunk_max_words=settings.get_int("pipeline.first_chunk_max_words"),
        voice_id=voice_id,
        prices=prices,
        max_tool_rounds=settings.value(TOOLS_MAX_ROUNDS),
        filler_after_s=settings.value(TOOLS_FILLER_AFTER_S),
    )


def endpointer_config(settings: Any, *, silence_ms: int | None = None) -> EndpointerConfig:
    """The hands-free endpointer, with the short pause that starts early transcription.

    The pause is capped at half the end-of-speech silence (at least 80 ms): a pause almost as long
    as the silence itself leaves the early work no time to finish before the turn is confirmed.
    """
    silence = silence_ms if silence_ms is not None else settings.get_int("audio.silence_ms")
    pause = settings.get_int("pipeline.speculative_pause_ms")
    if pause > 0:
        pause = min(pause, max(80, silence // 2))
    return EndpointerConfig.from_settings(settings, pause_ms=pause, silence_ms=silence)


def loop_config(settings: Any, *, barge_in: bool | None = None, headphones: bool | None = None,
                max_turns: int | None = None) -> LoopConfig:
    return LoopConfig(
        barge_in=settings.get_bool("audio.barge_in") if barge_in is None else barge_in,
        headphones=settings.get_bool("audio.headphones") if headphones is None else headphones,
        threshold=settings.get_float("audio.vad_threshold"),
        threshold_during_playback=settings.get_float("audio.vad_threshold_during_playback"),
        threshold_during_playback_aec=settings.get_float("audio.vad_threshold_during_playback_aec"),
        max_turns=max_turns,
        incomplete_hold_ms=settings.get_int("pipeline.incomplete_turn_hold_ms"),
        maybe_hold_ms=settings.get_int("pipeline.maybe_turn_hold_ms"),
        speculative_turn=settings.get_bool("pipeline.speculative_turn"),
        live_captions=settings.get_bool("ui.live_captions"),
        wake_idle_s=settings.get_float("audio.wake_word_idle_s"),
        wake_preroll_ms=settings.get_int("audio.wake_word_preroll_ms"),
    )


def turn_model(settings: Any, *, warn: Any = None) -> Any:
    """The end-of-turn model ``pipeline.end_of_turn_model`` asks for, or None.

    One that cannot be loaded is reported through ``warn`` as one line and the loop goes on with
    the words alone (the maybe hold), as it did before the model existed. Loading takes ~0.3 s:
    front ends call this off their event loop (``asyncio.to_thread``)."""
    from synthbot_desktop.audio.turn_model import TurnModelError, load

    try:
        return load(settings.get("pipeline.end_of_turn_model"))
    except TurnModelError as exc:
        if warn is not None:
            warn(f"end-of-turn model off: {exc.one_line()}")
        return None


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
