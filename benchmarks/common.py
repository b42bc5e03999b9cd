"""Shared benchmark helpers: timing, peak memory, and writing a JSON + Markdown report."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPORTS = Path(__file__).resolve().parent / "reports"


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if platform.system() == "Darwin" else 1)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_report(name: str, data: dict[str, Any], table: Sequence[Sequence[str]], notes: str = "") -> Path:
    """Write reports/<name>.json and reports/<name>.md; returns the Markdown path."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(), **data}
    (REPORTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    lines = [f"# Benchmark: {name}", "", f"Machine: {data['machine']['platform']}, "
             f"{data['machine']['cpus']} CPUs, Python {data['machine']['python']}, {data['machine']['when']}", ""]
    if table:
        header, *rows = table
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    if notes:
        lines += ["", notes]
    md = REPORTS / f"{name}.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md
