"""Filling the pool (slow, background) and drawing from it (one quick DB read, CSPRNG fallback)."""

from __future__ import annotations

import logging
import secrets
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synthbot_desktop.randomness.sources import RandomnessSource
from synthbot_desktop.redaction import redact
from synthbot_desktop.storage import quantum as qrepo
from synthbot_desktop.storage.db import Database
from synthbot_desktop.storage.models import QuantumRandomNumber

log = logging.getLogger(__name__)


@dataclass
class Draw:
    """64 random bits for one turn and where they came from (the record that makes a reply traceable)."""

    value: int
    source: str  # aer | ibm | os
    backend: str | None
    block_id: int | None  # quantum_random_numbers.id, None for the CSPRNG
    fallback_reason: str | None = None


def fill(db: Database, source: RandomnessSource, n_bits: int, *, chunk_bits: int = 16384,
         on_progress: Callable[[str], None] | None = None) -> int:
    """Draw ``n_bits`` from ``source`` in chunks, one quantum_sessions row per job; returns bits pooled.

    A failing job is recorded with its error and re-raised after the row is written.
    """
    n_bits -= n_bits % qrepo.BLOCK_BITS  # the pool holds whole 64-bit blocks
    done = 0
    while done < n_bits:
        want = min(chunk_bits, n_bits - done)
        with db.session() as s:
            job_row = qrepo.start_job(s, source.name, source.backend).id
        try:
            result = source.draw(want, on_status=on_progress)
        except Exception as exc:
            with db.session() as s:
                qrepo.finish_job(s, job_row, status="error", error=redact(f"{type(exc).__name__}: {exc}")[:2000])
            raise
        with db.session() as s:
            blocks = qrepo.finish_job(s, job_row, status="done", backend=result.backend, shots=result.shots,
                                      qubits=result.qubits, remote_job_id=result.job_id, queue_ms=result.queue_ms,
                                      run_ms=result.run_ms, bits=result.bits)
        done += blocks * qrepo.BLOCK_BITS
        if blocks == 0:
            break
        if on_progress:
            on_progress(f"{done}/{n_bits} bits pooled from {result.backend}")
    return done


DRAW_TIMEOUT_S = 0.3
"""How long a turn waits for the pool. A local database answers in a few ms; a remote one that
hangs (or an unroutable host) would otherwise cost each enhanced turn its 5 s connect timeout."""

_pending: weakref.WeakKeyDictionary[Database, threading.Event] = weakref.WeakKeyDictionary()
"""Per database: set when its last draw has finished (unset while one hangs past its deadline)."""
_pending_lock = threading.Lock()


def draw_pending(db: Database) -> bool:
    """Whether a draw given up on (past its deadline) is still waiting for ``db``."""
    with _pending_lock:
        done = _pending.get(db)
        return done is not None and not done.is_set()


def _release(db: Database, block_id: int) -> None:
    """A block taken after the turn stopped waiting goes back to the pool (the turn used the CSPRNG)."""
    try:
        with db.session() as s:
            row = s.get(QuantumRandomNumber, block_id)
            if row is not None:
                row.consumed_by, row.consumed_at = None, None
    except Exception as exc:  # the database failed again: the block stays marked, the record says os
        log.warning("enhanced mode: could not return late block %s to the pool (%s)", block_id, type(exc).__name__)


def draw(db: Database, consumer: str, *, timeout_s: float = DRAW_TIMEOUT_S) -> Draw:
    """One 64-bit number for a turn: a pooled block if there is one, else the CSPRNG at once (and say so).

    The read runs on its own thread and the turn waits at most ``timeout_s``: a database that does
    not answer in time costs the turn nothing (CSPRNG), later turns do not queue behind it while it
    still hangs, and a block it hands out late is put back, so no block names a message whose
    record says ``os``.
    """
    with _pending_lock:
        outstanding = _pending.get(db)
        if outstanding is not None and not outstanding.is_set():
            reason = "the quantum pool is still not answering"
            log.debug("enhanced mode: %s; using the OS CSPRNG for this turn", reason)
            return Draw(secrets.randbits(64), "os", "os.urandom", None, fallback_reason=reason)
        done = threading.Event()
        _pending[db] = done
    box: dict[str, Any] = {}
    lock = threading.Lock()

    def work() -> None:
        try:
            with db.session() as s:
                row = qrepo.take_block(s, consumer)
                got = None if row is None else Draw(int(row.bits, 2), row.source, row.backend, row.id)
            with lock:
                box["draw"] = got
                late = box.get("abandoned", False)
            if late and got is not None and got.block_id is not None:
                _release(db, got.block_id)
        except Exception as exc:  # a failing database must not stall a turn either
            with lock:
                box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="quantum-draw", daemon=True).start()
    finished = done.wait(timeout_s)
    with lock:
        if not finished and "draw" not in box and "error" not in box:
            box["abandoned"] = True
    if "draw" in box:
        if box["draw"] is not None:
            got: Draw = box["draw"]
            return got
        reason = "the quantum pool is empty"
    elif "error" in box:
        reason = f"the quantum pool is unreadable ({type(box['error']).__name__})"
    else:
        reason = f"the quantum pool did not answer within {timeout_s * 1000:.0f} ms"
    log.debug("enhanced mode: %s; using the OS CSPRNG for this turn", reason)  # the caller shows the notice
    return Draw(secrets.randbits(64), "os", "os.urandom", None, fallback_reason=reason)
