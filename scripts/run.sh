#!/usr/bin/env bash
# One command: install what is missing, then open SynthBot Desktop on the embedded default
# (SQLite in your data folder, bundled offline speech models). Arguments go to the app,
# e.g. `scripts/run.sh doctor` or `scripts/run.sh talk --mic`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/synthbot-desktop "$@"
