"""What the PyInstaller spec keeps and drops (packaging/build_helpers.py).

The spec drops Qt parts after Analysis; a wrong rule either ships 60 MB of QML nobody loads
or, worse, removes something the window needs and the packaged app fails to start on a
desktop. These tests pin both sides, including against the real PySide6 install.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.packaging_modules import load

ROOT = Path(__file__).resolve().parents[2]


bh = load("build_helpers")

QT = "PySide6/Qt"


@pytest.mark.parametrize(
    "dest",
    [
        f"{QT}/lib/libQt6Core.so.6",
        f"{QT}/lib/libQt6Gui.so.6",
        f"{QT}/lib/libQt6Widgets.so.6",
        f"{QT}/lib/libQt6DBus.so.6",
        f"{QT}/lib/libQt6XcbQpa.so.6",
        f"{QT}/lib/libQt6Charts.so.6",
        f"{QT}/lib/libQt6Svg.so.6",
        f"{QT}/lib/libQt6OpenGL.so.6",
        f"{QT}/lib/libicudata.so.73",
        f"{QT}/plugins/platforms/libqxcb.so",
        f"{QT}/plugins/platforms/libqoffscreen.so",
        f"{QT}/plugins/xcbglintegrations/libqxcb-glx-integration.so",
        f"{QT}/plugins/imageformats/libqsvg.so",
        f"{QT}/plugins/iconengines/libqsvgicon.so",
        f"{QT}/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
        f"{QT}/plugins/platformthemes/libqxdgdesktopportal.so",
        f"{QT}/plugins/tls/libqopensslbackend.so",
        "PySide6/QtCharts.abi3.so",
        "PySide6/QtWidgets.abi3.so",
        "PySide6/QtDBus.abi3.so",
        "libQt6DBus.so.6",
        "libQt6Charts.so.6",
        # Windows and macOS layouts of what must stay
        "PySide6\\Qt6DBus.dll",
        "PySide6\\plugins\\platforms\\qwindows.dll",
        "PySide6/Qt/lib/QtCharts.framework/Versions/A/QtCharts",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        # not Qt at all
        "numpy/core/_multiarray_umath.so",
        "faster_whisper/assets/silero_vad_v6.onnx",
        "piper/espeak-ng-data/en_dict",
    ],
)
def test_parts_the_app_needs_are_kept(dest: str) -> None:
    assert not bh.is_unused_qt(dest)
    assert not bh.is_unused_data(dest)


@pytest.mark.parametrize(
    "dest",
    [
        f"{QT}/translations/qtbase_de.qm",
        f"{QT}/lib/libQt6Qml.so.6",
        f"{QT}/lib/libQt6QmlModels.so.6",
        f"{QT}/lib/libQt6Quick.so.6",
        f"{QT}/lib/libQt6QuickControls2.so.6",
        f"{QT}/lib/libQt6Pdf.so.6",
        f"{QT}/lib/libQt6WebEngineCore.so.6",
        f"{QT}/lib/libQt6VirtualKeyboard.so.6",
        f"{QT}/lib/libQt63DCore.so.6",
        f"{QT}/lib/libQt6ChartsQml.so.6",
        f"{QT}/lib/libQt6WaylandClient.so.6",
        f"{QT}/qml/QtQuick/Controls/qmldir",
        f"{QT}/plugins/platforms/libqwayland-egl.so",
        f"{QT}/plugins/platforms/libqeglfs.so",
        f"{QT}/plugins/platforms/libqminimalegl.so",
        f"{QT}/plugins/platforms/libqvnc.so",
        f"{QT}/plugins/platformthemes/libqgtk3.so",
        f"{QT}/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        f"{QT}/plugins/qmltooling/libqmldbg_debugger.so",
        f"{QT}/plugins/wayland-shell-integration/libxdg-shell.so",
        f"{QT}/plugins/generic/libqevdevmouseplugin.so",
        f"{QT}/plugins/imageformats/libqpdf.so",  # links libQt6Pdf (issue #11: check-depends failed)
        "PySide6\\plugins\\imageformats\\qpdf.dll",
        "PySide6/QtQml.abi3.so",
        "PySide6/QtQuick.abi3.so",
        "PySide6/QtPdf.abi3.so",
        "PySide6/QtWebEngineCore.abi3.so",
        "libQt6WaylandClient.so.6",
        "libQt6Quick.so.6",
        "PySide6\\Qt6Quick.dll",
        "PySide6\\translations\\qt_fr.qm",
        "PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick",
    ],
)
def test_unused_qt_parts_are_dropped(dest: str) -> None:
    assert bh.is_unused_qt(dest)


def test_piper_extras_for_other_languages_are_dropped_but_espeak_data_is_kept() -> None:
    assert bh.is_unused_data("piper/hebrew/model.onnx")
    assert bh.is_unused_data("piper/tashkeel/model.onnx")
    assert not bh.is_unused_data("piper/espeak-ng-data/phontab")


def test_filter_toc_keeps_order_and_counts_dropped_bytes(tmp_path: Path) -> None:
    qml = tmp_path / "libQt6Qml.so.6"
    qml.write_bytes(b"x" * 1000)
    toc = [
        ("PySide6/Qt/lib/libQt6Core.so.6", "/nowhere/core", "BINARY"),
        ("PySide6/Qt/lib/libQt6Qml.so.6", str(qml), "BINARY"),
        ("libX11.so.6", "/nowhere/x11", "BINARY"),
        ("libQt6DBus.so.6", "/nowhere/dbus", "BINARY"),
    ]
    kept, dropped = bh.filter_toc(toc)
    assert [e[0] for e in kept] == ["PySide6/Qt/lib/libQt6Core.so.6", "libX11.so.6", "libQt6DBus.so.6"]
    assert dropped == bh.Dropped(1, 1000)
    kept, dropped = bh.filter_toc(toc, system_libraries=True)
    assert [e[0] for e in kept] == ["PySide6/Qt/lib/libQt6Core.so.6", "libQt6DBus.so.6"]
    assert dropped.entries == 2


def test_system_libraries_only_match_at_the_bundle_root() -> None:
    assert bh.is_system_library("libxcb-cursor.so.0")
    assert bh.is_system_library("libportaudio.so.2")
    # a wheel's own vendored copy (auditwheel renames it) or a nested one stays bundled
    assert not bh.is_system_library("av.libs/libxcb-5ddf6756.so.1.1.0")
    assert not bh.is_system_library("PySide6/Qt/lib/libX11.so.6")
    assert not bh.is_system_library("libQt6Core.so.6")


def test_system_depends_cover_the_audio_and_xcb_libraries() -> None:
    depends = bh.system_depends()
    assert depends == sorted(set(depends))
    for package in ("libportaudio2", "libxcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1",
                    "libxkbcommon-x11-0", "libdbus-1-3", "libgl1"):
        assert package in depends


def test_keyrings_alt_and_test_tools_are_never_bundled() -> None:
    # keyrings.alt would silently become a plaintext password store in the packaged app
    for module in ("keyrings", "pytest", "hypothesis", "PyInstaller"):
        assert module in bh.EXCLUDED_MODULES
    for needed in ("keyring", "synthbot_desktop", "PySide6", "faster_whisper"):
        assert needed not in bh.EXCLUDED_MODULES


def test_project_datas_mirror_the_wheel_layout() -> None:
    pairs = bh.project_datas(ROOT)
    targets = {target for _, target in pairs}
    sources = [Path(source) for source, _ in pairs]
    assert (str(ROOT / "migrations" / "env.py"), "synthbot_desktop/_migrations") in pairs
    assert "synthbot_desktop/_migrations/versions" in targets
    assert any(t.startswith("synthbot_desktop/_resources") for t in targets)
    assert all(s.is_file() and "__pycache__" not in s.parts for s in sources)
    versions = {s.name for s in sources if s.parent.name == "versions"}
    assert versions == {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}


def test_project_datas_explain_a_wrong_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="repository root"):
        bh.project_datas(tmp_path)


def _qt_needed_libs(path: Path) -> set[str]:
    """DT_NEEDED Qt sonames of an ELF file, read with a tiny parser (no binutils needed)."""
    import struct

    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "64-bit little-endian ELF expected"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strtab = sections[dynamic[6]]  # sh_link -> .dynstr
    names = set()
    for off in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == 0:
            break
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + val
            names.add(data[start:data.index(b"\0", start)].decode())
    return {n for n in names if n.startswith("libQt6")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the Linux PySide6 wheel's ELF files")
def test_nothing_the_window_loads_needs_a_dropped_qt_library() -> None:
    """The real PySide6 install: the modules and plugins we keep only link to kept Qt libraries."""
    import PySide6

    base = Path(PySide6.__file__).parent
    roots = [base / "QtWidgets.abi3.so", base / "QtCharts.abi3.so", base / "QtDBus.abi3.so",
             base / "Qt/plugins/platforms/libqxcb.so", base / "Qt/plugins/platforms/libqoffscreen.so"]
    seen: set[str] = set()
    todo = [p for p in roots if p.exists()]
    assert len(todo) == len(roots), "PySide6 install is missing expected files"
    while todo:
        current = todo.pop()
        for soname in _qt_needed_libs(current):
            if soname in seen:
                continue
            seen.add(soname)
            assert not bh.is_unused_qt(f"PySide6/Qt/lib/{soname}"), f"{current.name} needs {soname}, which is dropped"
            lib = base / "Qt" / "lib" / soname
            if lib.exists():
                todo.append(lib)
    assert {"libQt6Core.so.6", "libQt6Gui.so.6", "libQt6Widgets.so.6", "libQt6DBus.so.6", "libQt6XcbQpa.so.6",
            "libQt6Charts.so.6"} <= seen
