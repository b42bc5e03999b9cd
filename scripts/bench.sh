#!/usr/bin/env bash
# One command: install what is needed, then run the benchmarks (latency, STT, TTS, UI stall,
# storage, ...) one after another; reports go to benchmarks/reports/*.json and *.md.
# `scripts/bench.sh --only stt storage` runs a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec .venv/bin/python -m benchmarks.run_all "$@"
