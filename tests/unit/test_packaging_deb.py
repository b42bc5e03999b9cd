"""The .deb's control data, layout and Depends check (packaging/deb.py).

The package build itself is too slow for CI (scripts/package.sh --verify runs it by hand);
these tests cover the logic it rests on, and stage a real tree from a stand-in app folder
and build a real .deb with dpkg-deb when it is available, reading it back with dpkg-deb.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.packaging_modules import load

ROOT = Path(__file__).resolve().parents[2]


deb = load("deb")


@pytest.mark.parametrize(
    ("pep440", "debian"),
    [
        ("0.1.0", "0.1.0"),
        ("1.2.0rc1", "1.2.0~rc1"),
        ("1.2.0a3", "1.2.0~a3"),
        ("1.2.0.dev4", "1.2.0~~dev4"),
        ("1.2.0rc1.dev2", "1.2.0~rc1~dev2"),
        ("1.2.0.post1", "1.2.0+post1"),
        ("1.2.0+acme.1", "1.2.0+acme.1"),
    ],
)
def test_debian_version_mapping(pep440: str, debian: str) -> None:
    assert deb.debian_version(pep440) == debian


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg to compare versions")
def test_debian_versions_sort_like_pep440() -> None:
    ordered = ["1.2.0.dev4", "1.2.0a3", "1.2.0rc1.dev2", "1.2.0rc1", "1.2.0", "1.2.0+acme.1", "1.2.0.post1", "1.3.0"]
    mapped = [deb.debian_version(v) for v in ordered]
    for older, newer in itertools.pairwise(mapped):
        assert subprocess.run(["dpkg", "--compare-versions", older, "lt", newer]).returncode == 0, (older, newer)


@pytest.mark.parametrize("bad", ["", "latest", "1.0-1", "v1.0"])
def test_debian_version_rejects_what_it_cannot_map(bad: str) -> None:
    with pytest.raises(ValueError, match="not a release version"):
        deb.debian_version(bad)


def test_architecture_names() -> None:
    assert deb.debian_architecture("x86_64") == "amd64"
    assert deb.debian_architecture("aarch64") == "arm64"
    with pytest.raises(ValueError, match="riscv"):
        deb.debian_architecture("riscv128")


def test_control_file_fields() -> None:
    info = deb.DebInfo("1.2.0~rc1", "amd64", 4242, deb.default_depends("2.36"))
    text = deb.control_text(info)
    fields = dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith(" "))
    assert fields["Package"] == "synthbot-desktop"
    assert fields["Version"] == "1.2.0~rc1"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "4242"
    depends = fields["Depends"].split(", ")
    assert depends[0] == "libc6 (>= 2.36)"
    assert {"libportaudio2", "libxcb1", "libxcb-cursor0", "libxkbcommon-x11-0", "libdbus-1-3"} <= set(depends)
    assert len(fields["Description"]) <= 80  # the synopsis line, per Debian policy
    long_lines = [line for line in text.splitlines() if line.startswith(" ")]
    assert long_lines and all(len(line) <= 80 for line in long_lines)
    assert text.endswith("\n")


def test_control_file_refuses_a_package_without_depends() -> None:
    with pytest.raises(ValueError, match="Depends"):
        deb.control_text(deb.DebInfo("1.0", "amd64", 1, ()))


def test_conffiles_protect_the_policy_example() -> None:
    assert deb.conffiles().splitlines() == ["/etc/synthbot-desktop/policy.toml.example"]


def test_desktop_entry_rewrites_exec_and_icon_of_the_source_tree_entry() -> None:
    template = "\n".join([
        "[Desktop Entry]", "Type=Application", "Name=SynthBot", "Name[de]=SynthBot Sprachassistent",
        "Exec=synthbot-desktop-gui %U", "Icon=synthbot", "TryExec=synthbot-desktop-gui",
        "", "[Desktop Action New]", "Exec=synthbot-desktop-gui --new", "",
    ])
    out = deb.desktop_entry(template).splitlines()
    assert "Exec=synthbot-desktop" in out and "Icon=synthbot-desktop" in out and "TryExec=synthbot-desktop" in out
    assert "Name[de]=SynthBot Sprachassistent" in out
    assert "Exec=synthbot-desktop-gui --new" in out  # other groups are left alone


def test_desktop_entry_default_and_bad_template() -> None:
    assert "Exec=synthbot-desktop\n" in deb.desktop_entry(None)
    with pytest.raises(ValueError, match="Desktop Entry"):
        deb.desktop_entry("Name=nothing")


def test_missing_depends_reports_only_unprovided_libraries() -> None:
    needed = {
        "_internal/PySide6/Qt/plugins/platforms/libqxcb.so": ["libxcb-cursor.so.0", "libQt6Gui.so.6", "libc.so.6"],
        "_internal/libQt6Gui.so.6": ["libGL.so.1", "libfontconfig.so.1"],
        "_internal/libfoo.so": ["libmystery.so.9"],
    }
    owners = {"libxcb-cursor.so.0": "libxcb-cursor0", "libc.so.6": "libc6", "libGL.so.1": "libgl1:amd64",
              "libfontconfig.so.1": "libfontconfig1", "libmystery.so.9": None}
    bundled = ["libQt6Gui.so.6", "libqxcb.so", "libfoo.so"]
    missing = deb.missing_depends(needed, bundled, owners, ["libc6 (>= 2.36)", "libxcb-cursor0", "libgl1"])
    assert missing == {"libfontconfig.so.1": ["_internal/libQt6Gui.so.6"],
                       "libmystery.so.9": ["_internal/libfoo.so"]}
    # bundling the unknown library and declaring fontconfig leaves nothing missing
    assert deb.missing_depends(needed, [*bundled, "libmystery.so.9"], owners,
                               ["libxcb-cursor0", "libgl1", "libfontconfig1"]) == {}


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils' readelf")
def test_needed_sonames_of_a_real_library() -> None:
    import PySide6

    lib = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    names = deb.needed_sonames(lib)
    assert "libQt6XcbQpa.so.6" in names and "libxcb.so.1" in names
    assert deb.is_elf(lib) and not deb.is_elf(ROOT / "pyproject.toml")


def _fake_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "_internal").mkdir(parents=True)
    exe = app / "synthbot-desktop"
    exe.write_text("#!/bin/sh\necho synthbot-desktop 9.9.9\n")
    exe.chmod(0o755)
    (app / "_internal" / "data.bin").write_bytes(b"\0" * 5000)
    return app


def test_stage_lays_out_the_package(tmp_path: Path) -> None:
    info = deb.stage(_fake_app(tmp_path), tmp_path / "root", deb.DebInfo("9.9.9", "amd64", 0, ("libc6",)))
    root = tmp_path / "root"
    link = root / "usr/bin/synthbot-desktop"
    assert link.is_symlink() and not Path(str(link.readlink())).is_absolute()
    assert link.resolve() == (root / "opt/synthbot-desktop/synthbot-desktop").resolve()
    assert (root / "opt/synthbot-desktop/synthbot-desktop").stat().st_mode & 0o111
    policy = root / "etc/synthbot-desktop/policy.toml.example"
    assert policy.read_bytes() == (ROOT / "packaging" / "policy.example.toml").read_bytes()
    entry = (root / "usr/share/applications/synthbot-desktop.desktop").read_text()
    assert "Exec=synthbot-desktop\n" in entry and "Icon=synthbot-desktop\n" in entry
    assert (root / "usr/share/icons/hicolor/scalable/apps/synthbot-desktop.svg").read_text().lstrip().startswith("<")
    control = (root / "DEBIAN/control").read_text()
    assert f"Installed-Size: {info.installed_size_kib}\n" in control and info.installed_size_kib >= 5
    assert (root / "DEBIAN/conffiles").read_text() == "/etc/synthbot-desktop/policy.toml.example\n"
    assert oct((root / "DEBIAN").stat().st_mode & 0o777) == oct(0o755)


def test_stage_refuses_an_unbuilt_app(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="build the app first"):
        deb.stage(tmp_path / "nothing", tmp_path / "root", deb.DebInfo("1.0", "amd64", 0, ("libc6",)))


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_a_real_deb_is_built_and_reads_back(tmp_path: Path) -> None:
    info = deb.stage(_fake_app(tmp_path), tmp_path / "root", deb.DebInfo("9.9.9", "amd64", 0, ("libc6",)))
    target = deb.build(tmp_path / "root", tmp_path / "out", info, compression="xz")
    assert target.name == "synthbot-desktop_9.9.9_amd64.deb"
    field = subprocess.run(["dpkg-deb", "-f", str(target), "Package", "Version", "Depends"],
                           capture_output=True, text=True, check=True).stdout
    assert "Package: synthbot-desktop" in field and "Version: 9.9.9" in field
    listing = subprocess.run(["dpkg-deb", "-c", str(target)], capture_output=True, text=True, check=True).stdout
    assert "root/root" in listing and "./usr/bin/synthbot-desktop -> ../../opt/synthbot-desktop/synthbot-desktop" in listing
    assert "./etc/synthbot-desktop/policy.toml.example" in listing
