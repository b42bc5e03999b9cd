"""Device listing and choice, including the Windows/macOS branches, against a fake sounddevice."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from synthbot_desktop.audio.devices import PlatformAudio, choose_device, default_device, list_devices
from synthbot_desktop.errors import AudioError


def fake_sd(devices: list[dict[str, Any]], hostapis: list[str], default: tuple[int, int] = (-1, -1)) -> Any:
    return SimpleNamespace(
        query_devices=lambda: [dict(d, index=i) for i, d in enumerate(devices)],
        query_hostapis=lambda: [{"name": n} for n in hostapis],
        default=SimpleNamespace(device=default),
    )


def dev(name: str, hostapi: int, ins: int, outs: int, rate: float = 48000.0) -> dict[str, Any]:
    return {"name": name, "hostapi": hostapi, "max_input_channels": ins, "max_output_channels": outs,
            "default_samplerate": rate}


LINUX = fake_sd([dev("HDA Intel PCH: ALC3246 Analog (hw:0,0)", 0, 2, 2), dev("USB Headset (hw:1,0)", 0, 1, 2, 44100),
                 dev("pulse", 0, 32, 32, 44100), dev("default", 0, 32, 32, 44100)], ["ALSA"], default=(3, 3))
WINDOWS = fake_sd([dev("Microphone (USB Headset)", 0, 1, 0, 44100), dev("Speakers (Realtek)", 0, 0, 2, 44100),
                   dev("Microphone (USB Headset)", 1, 1, 0, 44100), dev("Microphone (USB Headset)", 2, 1, 0, 48000),
                   dev("Speakers (Realtek)", 2, 0, 2, 48000)],
                  ["MME", "Windows DirectSound", "Windows WASAPI"], default=(0, 1))
MAC = fake_sd([dev("MacBook Pro Microphone", 0, 1, 0), dev("MacBook Pro Speakers", 0, 0, 2)], ["Core Audio"])


def test_list_by_kind_with_host_api_and_defaults() -> None:
    inputs = list_devices("input", sd=LINUX)
    assert [d.name for d in inputs][:2] == ["HDA Intel PCH: ALC3246 Analog (hw:0,0)", "USB Headset (hw:1,0)"]
    assert all(d.hostapi == "ALSA" for d in inputs)
    assert [d.name for d in inputs if d.is_default_input] == ["default"]
    outputs = list_devices("output", sd=WINDOWS)
    assert {d.name for d in outputs} == {"Speakers (Realtek)"}
    assert outputs[0].as_dict()["hostapi"] == "MME"


def test_choose_by_index_exact_and_partial_name() -> None:
    assert choose_device("1", "input", sd=LINUX).device.name == "USB Headset (hw:1,0)"
    assert choose_device(1, "input", sd=LINUX).device.index == 1
    assert choose_device("usb headset", "input", sd=LINUX).device.index == 1
    assert choose_device("PULSE", "output", sd=LINUX).device.name == "pulse"
    assert choose_device("", "input", sd=LINUX).device.name == "default"
    choice = choose_device(None, "output", sd=LINUX)
    assert choice.device.name == "default" and choice.fallback_message is None


def test_missing_device_falls_back_with_a_message() -> None:
    choice = choose_device("Blue Yeti", "input", sd=LINUX)
    assert choice.device.name == "default"
    assert choice.fallback_message is not None
    assert "Blue Yeti" in choice.fallback_message and "default" in choice.fallback_message
    gone = choose_device("17", "output", sd=LINUX)
    assert gone.device.name == "default" and "#17" in (gone.fallback_message or "")
    # An index that exists but is not an input is "not available" for input.
    assert choose_device("4", "input", sd=WINDOWS).fallback_message


def test_windows_prefers_wasapi_among_duplicates() -> None:
    choice = choose_device("USB Headset", "input", sd=WINDOWS, platform=PlatformAudio("win32"))
    assert choice.device.hostapi == "Windows WASAPI" and choice.device.index == 3
    # On Linux rules the same list has no preferred API: the first listed wins.
    assert choose_device("USB Headset", "input", sd=WINDOWS, platform=PlatformAudio("linux")).device.index == 0


def test_no_default_reported_picks_by_platform_preference() -> None:
    assert default_device("input", sd=MAC, platform=PlatformAudio("darwin")).name == "MacBook Pro Microphone"
    win = fake_sd([dev("Mic", 0, 1, 0), dev("Mic", 1, 1, 0)], ["MME", "Windows WASAPI"])
    assert default_device("input", sd=win, platform=PlatformAudio("win32")).hostapi == "Windows WASAPI"


@pytest.mark.parametrize(("platform", "needle"), [
    ("win32", "Settings > Privacy & security > Microphone"),
    ("darwin", "System Settings > Privacy & Security > Microphone"),
    ("linux", "PulseAudio or PipeWire"),
])
def test_no_microphone_is_a_clear_platform_specific_error(platform: str, needle: str) -> None:
    only_speakers = fake_sd([dev("Speakers", 0, 0, 2)], ["X"])
    with pytest.raises(AudioError, match="no microphone found") as info:
        choose_device(None, "input", sd=only_speakers, platform=PlatformAudio(platform))
    assert info.value.hint and needle in info.value.hint


def test_portaudio_hint_per_platform() -> None:
    assert "libportaudio2" in PlatformAudio("linux").portaudio_hint()
    assert "reinstall" in PlatformAudio("win32").portaudio_hint()
    assert PlatformAudio("win32").preferred_hostapis[0] == "Windows WASAPI"
    assert PlatformAudio("darwin").preferred_hostapis == ("Core Audio",)


def test_query_failure_becomes_audio_error() -> None:
    def boom() -> list[Any]:
        raise RuntimeError("PortAudio not initialized")

    broken = SimpleNamespace(query_devices=boom, query_hostapis=lambda: [], default=SimpleNamespace(device=(-1, -1)))
    with pytest.raises(AudioError, match="cannot list audio devices"):
        list_devices(sd=broken)
