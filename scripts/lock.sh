#!/usr/bin/env bash
# Refreshes requirements/lock.txt: every Python dependency of every extra declared in pyproject.toml
# (read from pyproject by pip-compile --all-extras, so new extras are picked up), pinned with hashes.
# Existing pins are kept unless you pass --upgrade (or --upgrade-package NAME); run it with the
# Python the lock targets (3.11). Extra arguments go to pip-compile.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${SYNTHBOT_LOCK_TOOLS:-.venv-lock}"
if [[ ! -x "$tools/bin/pip-compile" ]]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q "pip-tools>=7.4" 2>&1 | grep -v "^WARNING: Location" >&2 || true
fi
mkdir -p requirements
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
exec "$tools/bin/pip-compile" --quiet --no-emit-find-links --all-extras --generate-hashes --strip-extras --allow-unsafe \
  --no-emit-index-url --output-file requirements/lock.txt "$@" pyproject.toml
