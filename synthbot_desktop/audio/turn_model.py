"""Is the turn over? Asked of the voice itself: Smart Turn v3 (BSD-2, an 8.7 MB ONNX classifier).

Why: the words alone cannot tell "Ten of clubs." (a whole answer) from "the weather in Paris"
(which may go on), so ``end_of_turn.judge`` grades both MAYBE and the loop waits
``pipeline.maybe_turn_hold_ms`` of silence on every short noun phrase: the very utterances people
say to an assistant. Intonation does tell them apart (a falling, lengthened final word), and that
is what Smart Turn was trained on. Measured on the corpus (8 s window, end of speech + 0.2 s):
p(complete) 0.97-0.99 on the card names, "go forward ten meters" and the short questions; 0.02-0.22
on read sentences cut where the reader only paused.

It is used only to *shorten* a MAYBE hold (a piece the words say is complete is answered at once
anyway, and one they say surely goes on, "and the ...", keeps its long hold): a wrong "complete"
costs what the text heuristic already risks, a wrong "incomplete" costs nothing new. Pipecat runs
it as the whole decision and waits its 3 s fallback whenever it says "incomplete" on a read
sentence; here the words keep the last word on those.

The model ships inside the ``pipecat-ai`` wheel (``pipecat/audio/turn/smart_turn/data``), installed
from ``requirements/models.txt`` without its dependencies: only the file is used, found on
``sys.path`` without importing pipecat. Features are Whisper's log-mel (faster-whisper's own
extractor, 8 s window, 80 bins) of the waveform normalised to zero mean and unit variance, as the
model was trained.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from synthbot_desktop.errors import SynthbotError

log = logging.getLogger(__name__)

RATE = 16000
WINDOW_S = 8  # the model's input: the last 8 s of the turn, zero-padded in front
COMPLETE_AT = 0.5  # the model's own decision boundary
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
MODEL_DIR = ("pipecat", "audio", "turn", "smart_turn", "data")
MODEL_PACKAGE = "pipecat-ai"


class TurnModelError(SynthbotError):
    """The end-of-turn model cannot be used; the loop goes on with the words alone."""


def bundled_model_path(search: list[str] | None = None) -> Path | None:
    """Where the installed (or PyInstaller-bundled) Smart Turn model is, without importing pipecat
    (its package ``__init__`` needs loguru and the rest of the framework, which are not installed)."""
    roots = list(search if search is not None else sys.path)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        roots.insert(0, str(frozen))
    for root in roots:
        candidate = Path(root or ".").joinpath(*MODEL_DIR, MODEL_FILE)
        if candidate.is_file():
            return candidate
    return None


def resolve_model_path(choice: str) -> Path | None:
    """``pipeline.end_of_turn_model``: "off" -> None, "auto" -> the bundled model (None if it is not
    installed: the words decide, as before), else a path that must exist."""
    choice = choice.strip()
    if choice in ("", "off"):
        return None
    if choice == "auto":
        return bundled_model_path()
    path = Path(choice).expanduser()
    if not path.is_file():
        raise TurnModelError(f"the end-of-turn model {str(path)!r} does not exist",
                             hint="set pipeline.end_of_turn_model to auto, off or an existing .onnx file")
    return path


class SmartTurn:
    """One loaded model. ``probability`` is thread-safe and takes ~50-130 ms on one core here: the
    loop calls it with ``asyncio.to_thread`` while the prepared reply is already on its way."""

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # Whisper and the TTS need the other core
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session: Any = ort.InferenceSession(str(path), sess_options=options,
                                                      providers=["CPUExecutionProvider"])
        except Exception as exc:  # a truncated or foreign file: onnxruntime's own words, one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TurnModelError(f"the end-of-turn model {path.name} could not be loaded ({first[:200]})",
                                 hint="reinstall it (bash scripts/setup.sh) or set pipeline.end_of_turn_model = off"
                                 ) from None
        inputs = self._session.get_inputs()
        if not inputs or inputs[0].name != "input_features":
            raise TurnModelError(f"{path.name} is not a Smart Turn model (no input_features input)")
        self._features = FeatureExtractor(feature_size=80, sampling_rate=RATE, chunk_length=WINDOW_S)
        self._lock = threading.Lock()  # the extractor keeps no state, but one inference at a time is enough
        self.path = path

    def probability(self, audio: np.ndarray) -> float:
        """p(the speaker has finished) for 16 kHz mono ``audio`` ending just after their last word."""
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        n = WINDOW_S * RATE
        x = x[-n:] if x.size >= n else np.pad(x, (n - x.size, 0))
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        with self._lock:
            mel = self._features(x.astype(np.float32), padding=0)
            out = self._session.run(None, {"input_features": mel[None].astype(np.float32)})
        return float(np.asarray(out[0]).reshape(-1)[0])

    def is_complete(self, audio: np.ndarray) -> bool:
        return self.probability(audio) >= COMPLETE_AT


def load(choice: str) -> SmartTurn | None:
    """The model ``pipeline.end_of_turn_model`` names, or None (off, or auto with none installed)."""
    path = resolve_model_path(choice)
    if path is None:
        if choice.strip() == "auto":
            log.info("no end-of-turn model installed: short phrases wait pipeline.maybe_turn_hold_ms")
        return None
    return SmartTurn(path)
