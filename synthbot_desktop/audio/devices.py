"""Find microphones and speakers, and pick one by name or index with a plain fallback.

A saved device name can vanish (headset unplugged, USB port changed), so choosing never fails
just because the remembered device is gone: it falls back to the system default and says so.
Platform differences (which host API to prefer, what to tell a user who has no microphone)
sit in :class:`PlatformAudio`, so Windows and macOS branches are unit-tested on Linux.
The ``sd`` parameter takes the sounddevice module or a fake with the same functions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from synthbot_desktop.errors import AudioError

Kind = Literal["input", "output"]


def import_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into an :class:`AudioError`."""
    try:
        import sounddevice
    except OSError as exc:
        raise AudioError(f"the PortAudio library is not available ({exc})",
                         hint=PlatformAudio.current().portaudio_hint()) from None
    return sounddevice


@dataclass(frozen=True)
class PlatformAudio:
    """The few audio facts that differ per OS."""

    platform: str  # sys.platform value: "linux", "win32", "darwin"

    @classmethod
    def current(cls) -> PlatformAudio:
        return cls(sys.platform)

    @property
    def preferred_hostapis(self) -> tuple[str, ...]:
        """Host APIs in order of preference when one device shows up under several of them."""
        if self.platform == "win32":
            # WASAPI has the lowest latency of the shared-mode APIs; MME is the lowest common denominator.
            return ("Windows WASAPI", "Windows DirectSound", "MME", "Windows WDM-KS")
        if self.platform == "darwin":
            return ("Core Audio",)
        return ("PulseAudio", "ALSA", "JACK Audio Connection Kit", "OSS")

    def no_device_hint(self, kind: Kind) -> str:
        what = "microphone" if kind == "input" else "speaker or headphones"
        if self.platform == "win32":
            extra = " and allow microphone access in Settings > Privacy & security > Microphone" if kind == "input" else ""
            return f"connect a {what}{extra}"
        if self.platform == "darwin":
            extra = (" and allow microphone access in System Settings > Privacy & Security > Microphone"
                     if kind == "input" else "")
            return f"connect a {what}{extra}"
        return f"connect a {what} and make sure PulseAudio or PipeWire is running (`pactl info`)"

    def portaudio_hint(self) -> str:
        if self.platform == "linux":
            return "install PortAudio (Debian/Ubuntu: sudo apt install libportaudio2)"
        return "reinstall SynthBot Desktop (the sounddevice package ships PortAudio on this OS)"


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "hostapi": self.hostapi,
                "max_input_channels": self.max_input_channels, "max_output_channels": self.max_output_channels,
                "default_samplerate": self.default_samplerate, "default_input": self.is_default_input,
                "default_output": self.is_default_output}


@dataclass(frozen=True)
class DeviceChoice:
    """The device to open, and a message for the user when it is not the one asked for."""

    device: DeviceInfo
    requested: str
    fallback_message: str | None = None


def _default_indices(sd: Any) -> tuple[int, int]:
    try:
        pair = sd.default.device
        return int(pair[0] if pair[0] is not None else -1), int(pair[1] if pair[1] is not None else -1)
    except Exception:
        return -1, -1


def list_devices(kind: Kind | None = None, *, sd: Any = None) -> list[DeviceInfo]:
    """All devices PortAudio sees (or only inputs/outputs), with host API names and defaults."""
    sd = sd or import_sounddevice()
    try:
        raw = list(sd.query_devices())
        hostapis = [h["name"] for h in sd.query_hostapis()]
    except Exception as exc:
        raise AudioError(f"cannot list audio devices ({exc})",
                         hint=PlatformAudio.current().no_device_hint("input")) from None
    din, dout = _default_indices(sd)
    devices = []
    for i, d in enumerate(raw):
        index = int(d.get("index", i))
        api = d.get("hostapi", 0)
        info = DeviceInfo(
            index=index, name=str(d["name"]), hostapi=hostapis[api] if 0 <= api < len(hostapis) else str(api),
            max_input_channels=int(d["max_input_channels"]), max_output_channels=int(d["max_output_channels"]),
            default_samplerate=float(d["default_samplerate"]), is_default_input=index == din,
            is_default_output=index == dout,
        )
        if kind is None or info.channels(kind) > 0:
            devices.append(info)
    return devices


def _rank(device: DeviceInfo, platform: PlatformAudio) -> int:
    prefs = platform.preferred_hostapis
    return prefs.index(device.hostapi) if device.hostapi in prefs else len(prefs)


def default_device(kind: Kind, *, sd: Any = None, platform: PlatformAudio | None = None) -> DeviceInfo:
    """The system default input/output, or the best-ranked device of that kind when none is set."""
    platform = platform or PlatformAudio.current()
    devices = list_devices(kind, sd=sd)
    if not devices:
        what = "microphone" if kind == "input" else "speaker"
        raise AudioError(f"no {what} found", hint=platform.no_device_hint(kind))
    for d in devices:
        if (d.is_default_input if kind == "input" else d.is_default_output):
            return d
    # No default reported: prefer a device literally named "default"/"pulse", then host API order.
    named = [d for d in devices if d.name.lower() in ("default", "pulse", "pipewire")]
    return (named or sorted(devices, key=lambda d: _rank(d, platform)))[0]


def choose_device(spec: str | int | None, kind: Kind, *, sd: Any = None,
                  platform: PlatformAudio | None = None) -> DeviceChoice:
    """Resolve a device by index or (part of its) name; fall back to the default with a message.

    Exact name matches win over partial ones; among equals the platform's preferred host API wins
    (Windows lists one headset under MME, DirectSound and WASAPI).
    """
    platform = platform or PlatformAudio.current()
    requested = "" if spec is None else str(spec).strip()
    default = default_device(kind, sd=sd, platform=platform)
    if not requested or requested.lower() == "default":
        return DeviceChoice(default, requested)
    devices = list_devices(kind, sd=sd)
    what = "microphone" if kind == "input" else "speaker"
    if requested.lstrip("-").isdigit():
        index = int(requested)
        for d in devices:
            if d.index == index:
                return DeviceChoice(d, requested)
        return DeviceChoice(default, requested,
                            f"{what} #{index} is not available; using the default {what} '{default.name}'")
    low = requested.lower()
    exact = [d for d in devices if d.name.lower() == low]
    partial = [d for d in devices if low in d.name.lower()]
    found = exact or partial
    if found:
        return DeviceChoice(sorted(found, key=lambda d: _rank(d, platform))[0], requested)
    return DeviceChoice(default, requested,
                        f"{what} '{requested}' is not connected; using the default {what} '{default.name}'")
