"""Level-meter values (RMS and peak in dBFS) for the GUI meter and for silence checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FLOOR_DBFS = -120.0
"""Digital silence reports this instead of -inf, so JSON and meters stay finite."""


def to_dbfs(amplitude: float) -> float:
    """Convert a linear amplitude (1.0 = full scale) to dBFS, floored at :data:`FLOOR_DBFS`."""
    if amplitude <= 0.0 or not math.isfinite(amplitude):
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(amplitude))


@dataclass(frozen=True)
class Level:
    rms_dbfs: float
    peak_dbfs: float


def measure(samples: np.ndarray) -> Level:
    """RMS and peak of a block of float samples (any shape)."""
    if samples.size == 0:
        return Level(FLOOR_DBFS, FLOOR_DBFS)
    x = samples.astype(np.float64, copy=False)
    rms = float(np.sqrt(np.mean(x * x)))
    peak = float(np.max(np.abs(x)))
    return Level(to_dbfs(rms), to_dbfs(peak))


def is_silent(samples: np.ndarray, threshold_dbfs: float = -60.0) -> bool:
    """True when nothing in the block rises above ``threshold_dbfs`` (a dead or muted input)."""
    return measure(samples).peak_dbfs < threshold_dbfs
