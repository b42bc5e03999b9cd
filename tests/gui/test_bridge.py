"""The threading idiom: results of pool jobs, engine coroutines and core events arrive on the GUI thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from synthbot_desktop.gui.bridge import EngineThread, EventBridge, app_engine, await_coro, run_coro, run_job
from synthbot_desktop.pipeline import events as ev

pytestmark = pytest.mark.gui


def _on_gui_thread() -> bool:
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


def test_run_job_reports_result_progress_and_error_on_gui_thread(qtbot: Any) -> None:
    seen: dict[str, Any] = {}

    def work(report: Any) -> int:
        seen["worker"] = threading.current_thread() is not threading.main_thread()
        report(50)
        return 42

    def done(value: int) -> None:
        seen["done"] = (value, _on_gui_thread())

    run_job(work, done, on_progress=lambda p: seen.setdefault("progress", (p, _on_gui_thread())))
    qtbot.waitUntil(lambda: "done" in seen, timeout=3000)
    assert seen["worker"] is True
    assert seen["done"] == (42, True)
    assert seen["progress"] == (50, True)

    def boom() -> None:
        raise ValueError("bad input")

    run_job(boom, lambda _: seen.setdefault("unexpected", True),
            lambda e: seen.setdefault("error", (str(e), _on_gui_thread())))
    qtbot.waitUntil(lambda: "error" in seen, timeout=3000)
    assert seen["error"] == ("bad input", True) and "unexpected" not in seen


def test_engine_thread_runs_coroutines_and_reports_on_gui_thread(qtbot: Any) -> None:
    engine = EngineThread().start()
    try:
        out: dict[str, Any] = {}

        async def work() -> str:
            await asyncio.sleep(0.01)
            out["loop_thread"] = threading.current_thread().name
            return "ok"

        engine.submit(work(), lambda r: out.setdefault("r", (r, _on_gui_thread())))
        qtbot.waitUntil(lambda: "r" in out, timeout=3000)
        assert out == {"loop_thread": "synthbot-engine", "r": ("ok", True)}

        async def fail() -> None:
            raise RuntimeError("provider down")

        engine.submit(fail(), on_error=lambda e: out.setdefault("e", str(e)))
        qtbot.waitUntil(lambda: "e" in out, timeout=3000)
        assert out["e"] == "provider down"
    finally:
        engine.stop()
    assert not engine.running


def test_event_bridge_delivers_typed_signals_from_other_threads(qtbot: Any) -> None:
    bridge = EventBridge()
    got: list[tuple[str, Any, bool]] = []
    bridge.stateChanged.connect(lambda e: got.append(("state", e.state, _on_gui_thread())))
    bridge.inputLevel.connect(lambda r, p: got.append(("level", (round(r), round(p)), _on_gui_thread())))
    bridge.assistantDelta.connect(lambda e: got.append(("delta", e.text, _on_gui_thread())))

    def emit() -> None:
        bridge.sink(ev.StateChanged(ev.TurnState.THINKING))
        bridge.sink(ev.InputLevel(-30.4, -12.2))
        bridge.sink(ev.AssistantDelta("Hi", "t1"))

    t = threading.Thread(target=emit)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(got) == 3, timeout=3000)
    assert got == [("state", ev.TurnState.THINKING, True), ("level", (-30, -12), True), ("delta", "Hi", True)]


def test_input_levels_are_coalesced_to_the_newest_per_frame(qtbot: Any) -> None:
    """A burst of levels from the capture thread costs a few repaints, and the newest one wins."""
    bridge = EventBridge()
    got: list[float] = []
    bridge.inputLevel.connect(lambda r, p: got.append(r))

    def burst() -> None:
        for i in range(500):
            bridge.sink(ev.InputLevel(-60.0 + i * 0.1, -1.0))

    t = threading.Thread(target=burst)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(got) and abs(got[-1] - (-60.0 + 499 * 0.1)) < 1e-6, timeout=3000)
    assert bridge.levels_received == 500
    assert len(got) == bridge.levels_emitted < 20
    bridge.sink(ev.InputLevel(-20.0, -3.0))
    bridge.drop_pending_level()  # a reset meter stays at rest: the late level is never drawn
    qtbot.wait(60)
    assert got[-1] != -20.0


def test_page_coroutines_share_the_one_engine_loop(qtbot: Any) -> None:
    """run_coro (GUI thread) and await_coro (pool job) both run on the app's engine loop, not a throwaway one."""
    engine = EngineThread().start()
    try:
        assert app_engine() is engine
        loops: list[asyncio.AbstractEventLoop] = []

        async def where() -> str:
            loops.append(asyncio.get_running_loop())
            return threading.current_thread().name

        out: dict[str, Any] = {}
        run_coro(where(), lambda r: out.setdefault("gui", r))
        run_job(lambda: await_coro(where()), lambda r: out.setdefault("pool", r))
        qtbot.waitUntil(lambda: len(out) == 2, timeout=5000)
        assert out == {"gui": "synthbot-engine", "pool": "synthbot-engine"}
        assert loops == [engine.loop, engine.loop]
    finally:
        engine.stop()
    fresh = app_engine()  # a stopped engine is not handed out again
    try:
        assert fresh is not engine and fresh.running
    finally:
        fresh.stop()
