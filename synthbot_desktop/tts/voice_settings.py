"""Validation and JSON shape of ElevenLabs voice settings, shared by the client, prefs and GUI.

Ranges follow ElevenLabs' API reference: stability, similarity_boost and style are 0–1; speed is
0.7–1.2 (1.0 = normal). Checking them locally gives the user a per-field message at once instead
of a 422 round trip, and keeps invalid values out of the database.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from synthbot_desktop.errors import UsageError
from synthbot_desktop.tts.base import VoiceSettings

UNIT_FIELDS = ("stability", "similarity_boost", "style")
SPEED_MIN = 0.7
SPEED_MAX = 1.2
DEFAULT_SETTINGS = VoiceSettings(stability=0.5, similarity_boost=0.75, style=0.0, use_speaker_boost=True, speed=1.0)
OUTPUT_FORMATS = ("pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "mp3_44100_128", "mp3_22050_32")


class VoiceSettingsError(UsageError):
    """One or more voice settings are out of range; ``fields`` maps each to its problem."""

    def __init__(self, fields: dict[str, str]) -> None:
        listing = "; ".join(f"{k}: {v}" for k, v in fields.items())
        super().__init__(f"invalid voice settings — {listing}",
                         hint="stability, similarity_boost and style take 0–1; speed takes 0.7–1.2")
        self.fields = fields


def validate(settings: VoiceSettings) -> VoiceSettings:
    """Return ``settings`` unchanged when every given value is in range, else raise per field."""
    problems: dict[str, str] = {}
    for name in UNIT_FIELDS:
        value = getattr(settings, name)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
            problems[name] = f"{value!r} is not a number"
        elif not 0.0 <= value <= 1.0:
            problems[name] = f"{value} is outside 0–1"
    if settings.speed is not None:
        sp = settings.speed
        if not isinstance(sp, int | float) or isinstance(sp, bool) or math.isnan(sp):
            problems["speed"] = f"{sp!r} is not a number"
        elif not SPEED_MIN <= sp <= SPEED_MAX:
            problems["speed"] = f"{sp} is outside {SPEED_MIN}–{SPEED_MAX}"
    if settings.use_speaker_boost is not None and not isinstance(settings.use_speaker_boost, bool):
        problems["use_speaker_boost"] = f"{settings.use_speaker_boost!r} is not true/false"
    if problems:
        raise VoiceSettingsError(problems)
    return settings


def validate_output_format(fmt: str) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"unsupported output format {fmt!r}", hint=f"use one of: {', '.join(OUTPUT_FORMATS)}")
    return fmt


def merge(base: VoiceSettings, override: VoiceSettings) -> VoiceSettings:
    """``override``'s values where given, ``base``'s elsewhere (unsaved GUI edits over saved prefs)."""
    changes = {f.name: getattr(override, f.name) for f in dataclasses.fields(override)
               if getattr(override, f.name) is not None}
    return dataclasses.replace(base, **changes)


def to_json(settings: VoiceSettings) -> dict[str, Any]:
    """The ``voice_settings`` object of a request: only the values that are set."""
    return {k: v for k, v in dataclasses.asdict(settings).items() if v is not None}


def from_json(data: dict[str, Any] | None) -> VoiceSettings:
    """Read settings from an API reply, tolerating missing and unknown keys."""
    if not data:
        return VoiceSettings()
    known = {f.name for f in dataclasses.fields(VoiceSettings)}
    return VoiceSettings(**{k: v for k, v in data.items() if k in known})


def is_empty(settings: VoiceSettings) -> bool:
    return not to_json(settings)
