"""Run every benchmark (one after another: they must not compete for the 2 cores) and index
their reports in benchmarks/reports/README.md.

    python -m benchmarks.run_all [--only stt tts ...] [-- ARGS FOR THE BENCHMARKS]

Arguments after ``--`` go to every selected benchmark, e.g. ``--only gui_soak -- --minutes 60``.
"""

from __future__ import annotations

import argparse
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="benchmark names without the bench_ prefix")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only]
    failures = []
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *extra], cwd=HERE.parent)
        print(f"== {name}: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        if rc:
            failures.append(name)
    lines = ["# Benchmark reports", "",
             "Made by `scripts/bench.sh`; each benchmark writes `<name>.json` and `<name>.md`.", ""]
    for md in sorted(REPORTS.glob("*.md")):
        if md.name != "README.md":
            lines.append(f"- [{md.stem}]({md.name})")
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
