#!/usr/bin/env bash
# One command: install the test dependencies, make sure MariaDB is up, then run ruff, mypy
# and the whole pytest suite (unit, contract, MariaDB, PulseAudio, Secret Service, Qt, models).
# Extra arguments go to pytest, e.g. `scripts/test.sh -k config`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

if ! .venv/bin/python -c "import pymysql; pymysql.connect(host='127.0.0.1', port=3306, user='root', password='', connect_timeout=2)" 2>/dev/null; then
  echo "[test] starting MariaDB" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi

echo "[test] ruff" >&2
.venv/bin/ruff check synthbot_desktop tests benchmarks migrations
echo "[test] mypy" >&2
.venv/bin/mypy
echo "[test] pytest" >&2
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
# Two workers (pytest-xdist): most of the suite waits on MariaDB, subprocesses, sockets and real-time
# audio, so two run side by side in about half the time; real-time audio tests stay on one worker
# (tests/conftest.py). SYNTHBOT_TEST_WORKERS=0 runs everything in this one process.
workers="${SYNTHBOT_TEST_WORKERS:-2}"
if [[ "$workers" == "0" ]]; then
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadgroup "$@"
