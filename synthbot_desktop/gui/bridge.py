"""The one threading idiom of the GUI: the GUI thread never waits for anything slow.

Two tools, chosen by the shape of the work:

* :class:`EngineThread` — one long-lived Python thread that runs the core's asyncio loop
  (provider streams, the turn engine). The GUI hands it coroutines with :meth:`EngineThread.submit`
  and gets the outcome back through :class:`Relay` signals.
* :func:`run_job` — one-shot blocking work (a DB query, a keyring call, "test key") on the
  global ``QThreadPool``, reporting ``finished``/``failed``/``progress`` back to the GUI thread.

Why a Relay object: a Qt signal connected to a plain Python callable runs that callable in the
*emitting* thread. Connecting to a slot of a QObject that lives in the GUI thread makes the
connection queued, so every callback below runs on the GUI thread, whatever thread emitted.

Core events (``pipeline.events``) cross the same way: :class:`EventBridge.sink` may be called
from any thread, and re-emits each event as a typed, queued Qt signal. Input levels arrive at the
capture block rate (50/s or more, several per block when two sources report); only the newest is
worth drawing, so they are coalesced to at most one per screen frame (``LEVEL_INTERVAL_MS``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from synthbot_desktop.pipeline import events as ev

log = logging.getLogger(__name__)

#: At most one level-meter update per ~60 Hz frame: more cannot be seen, and each costs a repaint.
LEVEL_INTERVAL_MS = 16

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]

# Keeps relays alive until their job reports (Qt would otherwise lose the Python object).
_LIVE: set[Relay] = set()

class Relay(QObject):
    """Lives in the GUI thread; its signals are queued into it from any thread.

    Values travel wrapped in a 1-tuple: PySide6 mis-counts references when ``None`` is sent
    through a ``Signal(object)`` many times ("Fatal Python error: none_dealloc"), and most jobs
    return None. Use :meth:`done`/:meth:`fail`/:meth:`report` to emit.
    """

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(object)

    def __init__(self, on_done: ResultCallback | None, on_error: ErrorCallback | None,
                 on_progress: ResultCallback | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_done = on_done
        self._on_error = on_error
        self._on_progress = on_progress
        self.finished.connect(self._done)
        self.failed.connect(self._fail)
        self.progress.connect(self._prog)
        _LIVE.add(self)

    def done(self, result: Any) -> None:
        self.finished.emit((result,))

    def fail(self, error: BaseException) -> None:
        self.failed.emit((error,))

    def report(self, value: Any) -> None:
        self.progress.emit((value,))

    @Slot(object)
    def _done(self, boxed: tuple[Any]) -> None:
        _LIVE.discard(self)
        if self._on_done is not None:
            _deliver(self._on_done, boxed[0])

    @Slot(object)
    def _fail(self, boxed: tuple[Any]) -> None:
        error = boxed[0]
        _LIVE.discard(self)
        if self._on_error is not None:
            _deliver(self._on_error, error)
        else:
            log.error("background job failed: %s", error)

    @Slot(object)
    def _prog(self, boxed: tuple[Any]) -> None:
        if self._on_progress is not None:
            _deliver(self._on_progress, boxed[0])


def _deliver(callback: Callable[[Any], None], value: Any) -> None:
    """Call a job's callback on the GUI thread, unless the widget it was for is gone.

    A page's read can finish after its dialog was closed and destroyed (dialogs are deleted on
    close: kept hidden, each opening cost ~14 MB). The result then has nowhere to go: dropped, not
    a traceback from a deleted QComboBox."""
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, QObject) and not shiboken6.isValid(owner):
        log.debug("dropped a background result: its widget is gone")
        return
    try:
        callback(value)
    except RuntimeError as exc:
        if "already deleted" not in str(exc):
            raise
        log.debug("dropped a background result: its widget is gone (%s)", exc)


class _Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], relay: Relay, with_progress: bool) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self._with_progress = with_progress

    def run(self) -> None:
        try:
            result = self._fn(self._relay.report) if self._with_progress else self._fn()
        except BaseException as exc:  # reported to the GUI, never lost in a worker thread
            self._relay.fail(exc)
        else:
            self._relay.done(result)


def run_job(
    fn: Callable[..., Any],
    on_done: ResultCallback | None = None,
    on_error: ErrorCallback | None = None,
    *,
    on_progress: ResultCallback | None = None,
    pool: QThreadPool | None = None,
) -> Relay:
    """Run blocking ``fn`` on the thread pool; callbacks run on the GUI thread.

    With ``on_progress`` set, ``fn`` is called with one argument, a thread-safe ``report(value)``.
    """
    relay = Relay(on_done, on_error, on_progress)
    (pool or QThreadPool.globalInstance()).start(_Job(fn, relay, on_progress is not None))
    return relay


class EngineThread:
    """A dedicated thread running an asyncio loop for the core (network, turn engine)."""

    def __init__(self, name: str = "synthbot-engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()
        # Cancel whatever is still running so providers close their connections.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def start(self) -> EngineThread:
        self._thread.start()
        self._started.wait(5)
        global _APP_ENGINE
        with _APP_ENGINE_LOCK:
            if _APP_ENGINE is None or not _APP_ENGINE.running:
                _APP_ENGINE = self  # the first engine started is the process's one loop
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def submit(
        self,
        coro: Coroutine[Any, Any, Any],
        on_done: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> concurrent.futures.Future[Any]:
        """Schedule ``coro`` on the engine loop; outcome callbacks run on the GUI thread."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        if on_done is not None or on_error is not None:
            relay = Relay(on_done, on_error)

            def report(f: concurrent.futures.Future[Any]) -> None:
                if f.cancelled():
                    relay.fail(asyncio.CancelledError())
                elif (error := f.exception()) is not None:
                    relay.fail(error)
                else:
                    relay.done(f.result())

            future.add_done_callback(report)
        return future

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a plain function on the engine loop (e.g. tell the engine to stop)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout: float = 5.0) -> None:
        global _APP_ENGINE
        with _APP_ENGINE_LOCK:
            if _APP_ENGINE is self:
                _APP_ENGINE = None
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)


_APP_ENGINE: EngineThread | None = None
_APP_ENGINE_LOCK = threading.Lock()


def app_engine() -> EngineThread:
    """The process's one engine loop (started by the app; started here on first use otherwise).

    Pages reach it through this function so that every coroutine of the GUI runs on one loop — the
    providers' clients and semaphores then live on one loop — instead of each job bringing its own.
    """
    with _APP_ENGINE_LOCK:
        engine = _APP_ENGINE
    return engine if engine is not None and engine.running else EngineThread().start()


def run_coro(
    coro: Coroutine[Any, Any, Any],
    on_done: ResultCallback | None = None,
    on_error: ErrorCallback | None = None,
) -> concurrent.futures.Future[Any]:
    """Run ``coro`` on the one engine loop; callbacks run on the GUI thread."""
    return app_engine().submit(coro, on_done, on_error)


def await_coro(coro: Coroutine[Any, Any, Any]) -> Any:
    """From a pool job (never the GUI thread): run ``coro`` on the engine loop and wait for it."""
    return app_engine().submit(coro).result()


class EventBridge(QObject):
    """Turns core events (from any thread) into typed Qt signals delivered on the GUI thread."""

    anyEvent = Signal(object)
    stateChanged = Signal(object)  # ev.StateChanged
    inputLevel = Signal(float, float)  # rms dBFS, peak dBFS
    partialTranscript = Signal(object)
    finalTranscript = Signal(object)
    assistantDelta = Signal(object)
    assistantDone = Signal(object)
    playbackProgress = Signal(object)
    turnTimings = Signal(object)
    error = Signal(object)  # ev.ErrorEvent
    sessionChanged = Signal(object)
    turnRetracted = Signal(object)  # ev.TurnRetracted: the user kept talking; remove that turn's bubbles

    _incoming = Signal(object)
    _levelReady = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming.connect(self._dispatch)
        self._levelReady.connect(self._flush_level)
        self._level_lock = threading.Lock()
        self._level: ev.InputLevel | None = None  # newest level not yet shown
        self._level_timer = QTimer(self)
        self._level_timer.setSingleShot(True)
        self._level_timer.timeout.connect(self._flush_level)
        self._level_shown_at = 0.0
        self.levels_received = 0  # for tests and the UI benchmark: how much coalescing saved
        self.levels_emitted = 0
        self._routes: dict[type, Callable[[Any], None]] = {
            ev.StateChanged: self.stateChanged.emit,
            ev.PartialTranscript: self.partialTranscript.emit,
            ev.FinalTranscript: self.finalTranscript.emit,
            ev.AssistantDelta: self.assistantDelta.emit,
            ev.AssistantDone: self.assistantDone.emit,
            ev.PlaybackProgress: self.playbackProgress.emit,
            ev.TurnTimings: self.turnTimings.emit,
            ev.ErrorEvent: self.error.emit,
            ev.SessionChanged: self.sessionChanged.emit,
            ev.TurnRetracted: self.turnRetracted.emit,
        }

    def sink(self, event: ev.Event) -> None:
        """The core's EventSink: never blocks, safe from any thread."""
        if type(event) is ev.InputLevel:
            with self._level_lock:
                pending = self._level is not None
                self._level = event
                self.levels_received += 1
            if not pending:  # one queued wake-up per frame, however many levels arrive
                self._levelReady.emit()
            return
        self._incoming.emit(event)

    def drop_pending_level(self) -> None:
        """Forget a level still waiting to be drawn (the meter was reset: it must stay at rest)."""
        with self._level_lock:
            self._level = None
        self._level_timer.stop()

    @Slot()
    def _flush_level(self) -> None:
        import time

        wait_ms = LEVEL_INTERVAL_MS - (time.monotonic() - self._level_shown_at) * 1000
        if wait_ms > 1:
            if not self._level_timer.isActive():
                self._level_timer.start(int(wait_ms))
            return
        with self._level_lock:
            level, self._level = self._level, None
        if level is None:
            return
        self._level_shown_at = time.monotonic()
        self.levels_emitted += 1
        self.anyEvent.emit(level)
        self.inputLevel.emit(float(level.rms_dbfs), float(level.peak_dbfs))

    @Slot(object)
    def _dispatch(self, event: Any) -> None:
        self.anyEvent.emit(event)
        route = self._routes.get(type(event))
        if route is not None:
            route(event)
