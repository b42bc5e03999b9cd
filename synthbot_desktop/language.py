"""The user's language, from the transcript to the reply: what the LLM is told, which voice speaks.

Whisper detects the language of every utterance (or the user fixes one in ``stt.language``).
The reply should come back in that language, so the instructions to the LLM name it, and a
non-English reply is spoken by an ElevenLabs *multilingual* model: an English-only model
(``eleven_flash_v2``, ``eleven_turbo_v2``, ``eleven_monolingual_v1``) would read French with an
English accent or not at all. The offline Piper voice is English, so non-English replies are
shown as text rather than mangled, and the user is told once.
"""

from __future__ import annotations

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian", "cs": "Czech", "sv": "Swedish",
    "da": "Danish", "fi": "Finnish", "no": "Norwegian", "el": "Greek", "tr": "Turkish", "ar": "Arabic",
    "he": "Hebrew", "hi": "Hindi", "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "id": "Indonesian",
    "vi": "Vietnamese", "th": "Thai", "ro": "Romanian", "hu": "Hungarian", "bg": "Bulgarian", "hr": "Croatian",
    "sk": "Slovak", "ta": "Tamil", "ms": "Malay", "fil": "Filipino", "ca": "Catalan",
}

MULTILINGUAL_TTS_MODELS = frozenset({
    "eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3", "eleven_multilingual_v1",
})
"""ElevenLabs models that speak languages other than English (see /v1/models ``languages``)."""

DEFAULT_MULTILINGUAL_TTS_MODEL = "eleven_flash_v2_5"  # the low-latency one; also the app's default model

OFFLINE_ENGLISH_ONLY = ("only English speech is available offline (the Piper voice is English): "
                        "the {name} reply is shown as text")


def base_language(code: str | None) -> str | None:
    """'fr', 'fr-FR', 'FR_fr' -> 'fr'; None or '' or 'auto' -> None."""
    if not code or code.strip().lower() == "auto":
        return None
    return code.strip().lower().replace("_", "-").split("-")[0] or None


def language_name(code: str | None) -> str:
    base = base_language(code)
    return LANGUAGE_NAMES.get(base or "", base or "unknown")


def is_english(code: str | None) -> bool:
    """Unknown counts as English: the app's default voice and model behaviour stay unchanged."""
    base = base_language(code)
    return base is None or base == "en"


def reply_instruction(code: str | None) -> str | None:
    """The line added to the LLM's instructions so it answers in the user's language."""
    base = base_language(code)
    if base is None:
        return None
    name = language_name(base)
    return f"The user is speaking {name} (language code '{base}'). Reply in {name}."


def with_language(system: str | None, code: str | None) -> str | None:
    """``system`` with the reply-language instruction appended (unchanged when the language is unknown)."""
    line = reply_instruction(code)
    if line is None:
        return system
    return f"{system.rstrip()}\n\n{line}" if system else line


def tts_model_for(code: str | None, configured: str | None) -> str | None:
    """The ElevenLabs model to speak a reply in ``code``: the configured one unless it is English-only."""
    if is_english(code) or (configured is not None and configured in MULTILINGUAL_TTS_MODELS):
        return configured
    return DEFAULT_MULTILINGUAL_TTS_MODEL


def piper_voice_language(voice: str | None) -> str:
    """Language of a Piper voice from its name (``de_DE-thorsten-medium``); the bundled joe-us is English."""
    from pathlib import Path

    stem = Path(voice or "").name
    head = stem.split("-")[0]
    if "_" in head and len(head.split("_")[0]) in (2, 3):
        return head.split("_")[0].lower()
    return "en"
