"""Repository code for the randomness pool (issue #20): jobs in quantum_sessions, bits in quantum_random_numbers.

Bits are stored in 64-bit blocks so a turn takes one row (one indexed read + one update)
and each block can name the message that consumed it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import QuantumRandomNumber, QuantumSession
from synthbot_desktop.storage.types import utcnow

BLOCK_BITS = 64


def start_job(s: Session, source: str, backend: str | None) -> QuantumSession:
    job = QuantumSession(source=source, backend=backend, status="running", shots=0, qubits=0, bits=0)
    s.add(job)
    s.flush()
    return job


def finish_job(s: Session, job_id: int, *, status: str, backend: str | None = None, shots: int = 0, qubits: int = 0,
               remote_job_id: str | None = None, queue_ms: int | None = None, run_ms: int | None = None,
               bits: str = "", error: str | None = None) -> int:
    """Close the job row and pool its bits in 64-bit blocks; returns the number of blocks stored."""
    job = s.get(QuantumSession, job_id)
    assert job is not None
    job.status, job.shots, job.qubits, job.job_id = status, shots, qubits, remote_job_id
    job.queue_ms, job.run_ms, job.error, job.finished_at = queue_ms, run_ms, error, utcnow()
    if backend:
        job.backend = backend
    blocks = [bits[i:i + BLOCK_BITS] for i in range(0, len(bits) - BLOCK_BITS + 1, BLOCK_BITS)]
    job.bits = len(blocks) * BLOCK_BITS
    s.add_all(QuantumRandomNumber(session_id=job_id, source=job.source, backend=job.backend, job_id=remote_job_id,
                                  bits=b) for b in blocks)
    return len(blocks)


def take_block(s: Session, consumer: str) -> QuantumRandomNumber | None:
    """The oldest unconsumed block, marked as consumed by ``consumer`` (a message uid); None when empty."""
    q = select(QuantumRandomNumber).where(QuantumRandomNumber.consumed_by.is_(None)).order_by(
        QuantumRandomNumber.id).limit(1)
    if s.get_bind().dialect.name != "sqlite":
        q = q.with_for_update(skip_locked=True)
    row = s.scalars(q).first()
    if row is None:
        return None
    row.consumed_by, row.consumed_at = consumer, utcnow()
    return row


def pool_status(s: Session) -> dict[str, Any]:
    unused = s.scalar(select(func.count()).select_from(QuantumRandomNumber).where(
        QuantumRandomNumber.consumed_by.is_(None))) or 0
    used = s.scalar(select(func.count()).select_from(QuantumRandomNumber).where(
        QuantumRandomNumber.consumed_by.is_not(None))) or 0
    by_source = dict(s.execute(select(QuantumRandomNumber.source, func.count()).where(
        QuantumRandomNumber.consumed_by.is_(None)).group_by(QuantumRandomNumber.source)).all())
    last = s.scalars(select(QuantumSession).order_by(QuantumSession.id.desc()).limit(1)).first()
    return {
        "pool_bits": int(unused) * BLOCK_BITS, "consumed_bits": int(used) * BLOCK_BITS,
        "pool_bits_by_source": {k: int(v) * BLOCK_BITS for k, v in by_source.items()},
        "last_job": None if last is None else {
            "id": last.id, "source": last.source, "backend": last.backend, "job_id": last.job_id,
            "status": last.status, "shots": last.shots, "qubits": last.qubits, "bits": last.bits,
            "queue_ms": last.queue_ms, "run_ms": last.run_ms, "error": last.error,
            "created_at": last.created_at.isoformat() if last.created_at else None},
    }


def export_bits(s: Session, count: int) -> str:
    """Up to ``count`` pooled bits (oldest first, consumed or not) as 0/1 text, for audits."""
    out: list[str] = []
    have = 0
    for block in s.scalars(select(QuantumRandomNumber.bits).order_by(QuantumRandomNumber.id)
                           .limit(-(-count // BLOCK_BITS))):
        out.append(block)
        have += len(block)
    return "".join(out)[:count]
