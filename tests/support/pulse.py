"""A private PulseAudio daemon with a virtual microphone and speaker (see shared TESTING.md).

- ``micfeed``: a null sink; whatever is played into it comes out of the source ``vmic``
  (the default source), so a test "speaks" by playing into ``micfeed``.
- ``vsink``: the default sink; record ``vsink.monitor`` to hear what the app played.
The daemon runs in its own XDG_RUNTIME_DIR so it never touches a real desktop's audio.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class PulseAudioError(RuntimeError):
    pass


def _run(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, check=check, capture_output=True, text=True, timeout=30)


class VirtualAudio:
    def __init__(self) -> None:
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="synthbot-pulse-"))
        os.chmod(self.runtime_dir, 0o700)
        self.env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime_dir))
        self.env.pop("PULSE_SERVER", None)

    @property
    def server(self) -> str:
        return f"unix:{self.runtime_dir}/pulse/native"

    def start(self) -> VirtualAudio:
        if not shutil.which("pulseaudio"):
            raise PulseAudioError("pulseaudio is not installed (run scripts/setup.sh)")
        _run([
            "pulseaudio", "-D", "--exit-idle-time=-1", "-n", "--log-target=stderr",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=vsink sink_properties=device.description=VirtualSpeaker",
            "--load=module-always-sink",
        ], self.env)
        deadline = time.monotonic() + 60  # generous: a loaded machine starts the daemon slowly
        while _run(["pactl", "info"], self.env, check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise PulseAudioError("PulseAudio did not start")
            time.sleep(0.1)
        _run(["pactl", "load-module", "module-null-sink", "sink_name=micfeed", "rate=16000", "channels=1",
              "sink_properties=device.description=MicFeed"], self.env)
        _run(["pactl", "load-module", "module-remap-source", "master=micfeed.monitor", "source_name=vmic",
              "source_properties=device.description=VirtualMic"], self.env)
        _run(["pactl", "set-default-source", "vmic"], self.env)
        _run(["pactl", "set-default-sink", "vsink"], self.env)
        deadline = time.monotonic() + 30
        while not {"vmic", "vsink.monitor"} <= set(_run(["pactl", "list", "short", "sources"], self.env,
                                                         check=False).stdout.split()):
            if time.monotonic() > deadline:
                raise PulseAudioError("PulseAudio started but the virtual devices did not appear")
            time.sleep(0.1)
        return self

    def wait_for_sound_on_sink(self, timeout: float = 60.0, peak: float = 0.03) -> bool:
        """Block until something audible plays on ``vsink`` (the app's speaker), or the timeout.

        Why: "the reply is playing now" is an event on the sink, not a number of seconds after
        the transcript; on a busy machine the first audio can come several seconds late.
        """
        import numpy as np

        proc = subprocess.Popen(["parec", "--device=vsink.monitor", "--rate=16000", "--channels=1",
                                 "--format=float32le", "--raw", "--latency-msec=20"],
                                env=self.env, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                data = proc.stdout.read(1280)  # 20 ms
                if not data:
                    return False
                block = np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4")
                if block.size and float(np.max(np.abs(block))) > peak:
                    return True
            return False
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    def export(self) -> None:
        """Make this process (and its children) use the virtual devices."""
        os.environ["XDG_RUNTIME_DIR"] = str(self.runtime_dir)
        os.environ["PULSE_SERVER"] = self.server

    def play_into_mic(self, wav_path: str | Path) -> subprocess.Popen[bytes]:
        """Start playing a file into the virtual microphone (returns the paplay process)."""
        return subprocess.Popen(["paplay", "--device=micfeed", str(wav_path)], env=self.env)

    def add_echo_path(self, delay_ms: int = 50, gain_db: float = -10.0) -> int:
        """Speaker-to-microphone echo: ``vsink.monitor`` looped into ``micfeed`` (so into ``vmic``).

        Why: a laptop's microphone hears its own speakers, ``delay_ms`` later and ``gain_db``
        quieter. ``adjust_time=0``: a room's echo path does not change, while module-loopback's
        rate adjustments would make its delay wander. Returns the module index for :meth:`remove_module`.
        """
        index = int(_run(["pactl", "load-module", "module-loopback", "source=vsink.monitor", "sink=micfeed",
                          f"latency_msec={delay_ms}", "adjust_time=0", "source_dont_move=true", "sink_dont_move=true",
                          "remix=true"], self.env).stdout.strip())
        deadline = time.monotonic() + 30
        while True:
            ids: list[str] = []
            current = ""
            for line in _run(["pactl", "list", "sink-inputs"], self.env, check=False).stdout.splitlines():
                line = line.strip()
                if line.startswith("Sink Input #"):
                    current = line.split("#", 1)[1]
                elif line == f"Owner Module: {index}":
                    ids.append(current)
            if ids:
                _run(["pactl", "set-sink-input-volume", ids[0], f"{gain_db}dB"], self.env)
                return index
            if time.monotonic() > deadline:
                raise PulseAudioError("the echo loopback did not start")
            time.sleep(0.1)

    def remove_module(self, index: int) -> None:
        _run(["pactl", "unload-module", str(index)], self.env, check=False)

    def stop(self) -> None:
        _run(["pactl", "exit"], self.env, check=False)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
