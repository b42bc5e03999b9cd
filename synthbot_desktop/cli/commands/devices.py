"""`synthbot-desktop audio devices [--json]`: the microphones and speakers PortAudio sees."""

from __future__ import annotations

import argparse
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.audio.devices import choose_device, list_devices
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import AudioError


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "audio", _audio, "audio devices (list inputs and outputs)")
    sub = parser.add_subparsers(dest="audio_command", metavar="ACTION", required=True)
    devices = add_command(sub, "devices", _devices, "list microphones and speakers, with the ones in use")
    add_json_flag(devices)


def _audio(ctx: AppContext, args: argparse.Namespace) -> int:  # argparse requires an ACTION first
    return _devices(ctx, args)


def _selected(ctx: AppContext, key: str, kind: Any) -> dict[str, Any]:
    try:
        choice = choose_device(str(ctx.settings.get(key) or ""), kind)
    except AudioError as exc:
        return {"setting": ctx.settings.get(key), "index": None, "name": None, "message": exc.one_line()}
    return {"setting": ctx.settings.get(key), "index": choice.device.index, "name": choice.device.name,
            "message": choice.fallback_message}


def _devices(ctx: AppContext, args: argparse.Namespace) -> int:
    devices = list_devices()
    selected = {"input": _selected(ctx, "audio.input_device", "input"),
                "output": _selected(ctx, "audio.output_device", "output")}
    if getattr(args, "json", False):
        print_json({"devices": [d.as_dict() for d in devices], "selected": selected})
        return 0
    if not devices:
        print("no audio devices found (is PulseAudio/PipeWire running?)")
        return 1
    print(f"{'#':>3}  {'in':>3} {'out':>3}  {'rate':>6}  {'host API':<14} name")
    for d in devices:
        mark = ("<" if d.is_default_input else " ") + (">" if d.is_default_output else " ")
        print(f"{d.index:>3}  {d.max_input_channels:>3} {d.max_output_channels:>3}  {d.default_samplerate:>6.0f}  "
              f"{d.hostapi:<14} {d.name} {mark.strip()}")
    for kind, sel in selected.items():
        print(f"{kind}: {sel['name'] or '-'}" + (f"  ({sel['message']})" if sel["message"] else ""))
    return 0
