"""Guard against PySide6 builds that drop references to None/True/False (6.12.0 on CPython 3.11):
such a build crashes the desktop app after a few thousand Qt calls, so it must never be installed."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class B(QObject):
    s = Signal(object)
b = B()
none_before = sys.getrefcount(None)
for i in range(20000):
    b.setObjectName("x")   # returns None
    b.s.emit(i)            # returns a bool
print(sys.getrefcount(None) >= none_before - 100)
"""


def test_qt_calls_keep_none_and_bool_references() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"PySide6 corrupts reference counts (pin another version): {out.stderr[-300:]}"
    assert out.stdout.strip() == "True"
