"""Filling the pool (slow, background) and drawing from it (one quick DB read, CSPRNG fallback)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from synthbot_desktop.randomness.sources import RandomnessSource
from synthbot_desktop.redaction import redact
from synthbot_desktop.storage import quantum as qrepo
from synthbot_desktop.storage.db import Database

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


def draw(db: Database, consumer: str) -> Draw:
    """One 64-bit number for a turn: a pooled block if there is one, else the CSPRNG at once (and say so)."""
    try:
        with db.session() as s:
            row = qrepo.take_block(s, consumer)
            if row is not None:
                return Draw(int(row.bits, 2), row.source, row.backend, row.id)
        reason = "the quantum pool is empty"
    except Exception as exc:  # a failing database must not stall a turn either
        reason = f"the quantum pool is unreadable ({type(exc).__name__})"
    log.debug("enhanced mode: %s; using the OS CSPRNG for this turn", reason)  # the caller shows the notice
    return Draw(secrets.randbits(64), "os", "os.urandom", None, fallback_reason=reason)
