"""Typed names for the settings the front ends read: ``settings.value(keys.UI_SHOW_TIMINGS)``.

Why: a string key (``settings.get("ui.show_timings")``) is checked only when that line runs, and
each site cast the ``Any`` it got back in its own way (``str(...)``, ``bool(...)``, ``or ""``).
A :class:`Key` carries the registry's type, so mypy knows what ``Settings.value`` returns, a
misspelt constant is a mypy error (and an AttributeError), and ``tests/unit/test_setting_keys.py``
checks every constant here against the registry (name and type). Code that walks the registry
itself (the settings pages' binder, ``config get``) keeps using the key strings it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", str, int, float, bool)


@dataclass(frozen=True)
class Key(Generic[T]):
    """One setting's dotted name and the type the registry declares for it."""

    name: str
    type: type[T]


def provider_model(provider: str) -> Key[str]:
    """``providers.<provider>.model``: the model used when the conversation chooses none."""
    return Key(f"providers.{provider}.model", str)


# The user interface
UI_PUSH_TO_TALK_KEY = Key("ui.push_to_talk_key", str)
UI_SHOW_TIMINGS = Key("ui.show_timings", bool)
UI_GLOBAL_SHORTCUT = Key("ui.global_shortcut", str)
UI_THEME = Key("ui.theme", str)
UI_SOUND_CUES = Key("ui.sound_cues", bool)
UI_SPOKEN_ERRORS = Key("ui.spoken_errors", bool)
UI_SPOKEN_REMINDERS = Key("ui.spoken_reminders", bool)
UI_CONVERSATION_SIDEBAR = Key("ui.conversation_sidebar", str)

# Audio
AUDIO_MODE = Key("audio.mode", str)
AUDIO_INPUT_DEVICE = Key("audio.input_device", str)
AUDIO_OUTPUT_DEVICE = Key("audio.output_device", str)
AUDIO_ECHO_CANCELLATION = Key("audio.echo_cancellation", str)
AUDIO_WAKE_WORD_EARCONS = Key("audio.wake_word_earcons", bool)
AUDIO_WAKE_WORD_PREROLL_MS = Key("audio.wake_word_preroll_ms", int)
AUDIO_WAKE_WORD = Key("audio.wake_word", str)
AUDIO_WAKE_WORD_SENSITIVITY = Key("audio.wake_word_sensitivity", float)
AUDIO_WAKE_WORD_REFRACTORY_S = Key("audio.wake_word_refractory_s", float)
AUDIO_WAKE_WORD_IDLE_S = Key("audio.wake_word_idle_s", float)
AUDIO_HEADPHONES = Key("audio.headphones", bool)

# The language model
LLM_PROVIDER = Key("llm.provider", str)
LLM_TEMPERATURE = Key("llm.temperature", float)
LLM_MAX_TOKENS = Key("llm.max_tokens", int)
LLM_CONTEXT_TOKENS = Key("llm.context_tokens", int)

# Enhanced mode
QUANTUM_POOL_WAIT_MS = Key("quantum.pool_wait_ms", int)

# Speech out
TTS_ENGINE = Key("tts.engine", str)
TTS_PIPER_VOICE = Key("tts.piper.voice", str)
TTS_ELEVENLABS_VOICE_ID = Key("tts.elevenlabs.voice_id", str)
TTS_ELEVENLABS_MODEL_ID = Key("tts.elevenlabs.model_id", str)
ELEVENLABS_TIMEOUT_S = Key("providers.elevenlabs.timeout_s", float)

# Tools
TOOLS_DISABLED = Key("tools.disabled", str)
TOOLS_MAX_ROUNDS = Key("tools.max_rounds", int)
TOOLS_FILLER_AFTER_S = Key("tools.filler_after_s", float)
TOOLS_MCP_START_TIMEOUT_S = Key("tools.mcp.start_timeout_s", float)
TOOLS_MCP_TIMEOUT_S = Key("tools.mcp.timeout_s", float)

# Read by the core and the application layer
DATABASE_URL = Key("database.url", str)
DATABASE_BACKUP_EVERY_HOURS = Key("database.backup.every_hours", int)
DATABASE_BACKUP_KEEP = Key("database.backup.keep", int)
HISTORY_KEEP_DAYS = Key("history.keep_days", int)
STT_LANGUAGE = Key("stt.language", str)
STT_MODEL = Key("stt.model", str)
TTS_FALLBACK_TO_PIPER = Key("tts.fallback_to_piper", bool)
