"""Enhanced-mode randomness (issue #20) on real databases (SQLite and a fresh MariaDB) with the real Aer simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from synthbot_desktop.randomness import pool
from synthbot_desktop.randomness.enhanced import sampling_for_turn
from synthbot_desktop.randomness.sources import AerSource, DrawResult, OsSource
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import quantum as qrepo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import QuantumRandomNumber, QuantumSession

pytest.importorskip("qiskit_aer")
WAIT_S = 10.0  # about the pool's bookkeeping, not the turn's deadline (test_quantum_pool_deadline)


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    engine = make_engine(any_db_url)
    migrate.upgrade(engine)
    database = Database(engine)
    yield database
    database.dispose()


class BrokenSource:
    """A backend that fails the way a real one does mid-job (network gone)."""

    name = "ibm"
    backend = "ibm_fake_broken"

    def draw(self, n_bits: int, on_status: Callable[[str], None] | None = None) -> DrawResult:
        raise ConnectionError("backend unreachable")


def test_aer_bits_are_balanced_chi_square() -> None:
    """>= 100k Aer bits: ones vs zeros, and all 256 byte values, pass chi-square at p = 0.001."""
    bits = AerSource().draw(131072).bits
    assert len(bits) == 131072 and set(bits) <= {"0", "1"}
    ones = bits.count("1")
    n = len(bits)
    chi_bits = (ones - n / 2) ** 2 / (n / 2) * 2
    assert chi_bits < 10.83, chi_bits  # 1 dof, p = 0.001
    counts = [0] * 256
    for i in range(0, n, 8):
        counts[int(bits[i:i + 8], 2)] += 1
    expected = (n // 8) / 256
    chi_bytes = sum((c - expected) ** 2 / expected for c in counts)
    assert chi_bytes < 330.5, chi_bytes  # 255 dof, p = 0.001


def test_fill_records_job_and_blocks(db: Database) -> None:
    assert pool.fill(db, AerSource(), 4096) == 4096
    with db.session() as s:
        jobs = s.scalars(select(QuantumSession)).all()
        blocks = s.scalars(select(QuantumRandomNumber)).all()
        assert [(j.source, j.backend, j.status, j.bits, j.qubits) for j in jobs] == [
            ("aer", "aer_simulator", "done", 4096, 16)]
        assert jobs[0].shots == 256 and jobs[0].run_ms is not None and jobs[0].finished_at is not None
        assert len(blocks) == 64 and all(len(b.bits) == 64 and b.consumed_by is None for b in blocks)
        assert len({b.bits for b in blocks}) == 64
        assert qrepo.pool_status(s)["pool_bits"] == 4096
        assert qrepo.export_bits(s, 100) == (blocks[0].bits + blocks[1].bits)[:100]


def test_pool_drains_falls_back_then_refills(db: Database) -> None:
    pool.fill(db, AerSource(), 128)
    first = sampling_for_turn(db, "msg-1", "openai", 0.7, wait_s=WAIT_S)
    second = sampling_for_turn(db, "msg-2", "anthropic", 0.7, wait_s=WAIT_S)
    assert first.record["source"] == second.record["source"] == "aer" and first.notice is None
    assert first.seed is not None and 0 <= first.seed < 2 ** 31
    assert second.seed is None and second.record["seed_supported"] is False  # Anthropic has no seed
    assert 0.5 <= first.temperature <= 0.9 and 0.5 <= second.temperature <= 0.9
    empty = sampling_for_turn(db, "msg-3", "openai", 0.7, wait_s=WAIT_S)
    assert empty.record["source"] == "os" and empty.record["block_id"] is None
    assert empty.notice is not None and "pool is empty" in empty.notice
    with db.session() as s:
        used = {b.consumed_by: b.id for b in s.scalars(select(QuantumRandomNumber)).all()}
    assert used == {"msg-1": first.record["block_id"], "msg-2": second.record["block_id"]}
    pool.fill(db, AerSource(), 64)  # refill
    again = sampling_for_turn(db, "msg-4", "gemini", 0.0, wait_s=WAIT_S)
    assert again.record["source"] == "aer" and 0.0 <= again.temperature <= 0.2


def test_failing_backend_is_recorded_and_turns_fall_back(db: Database) -> None:
    with pytest.raises(ConnectionError):
        pool.fill(db, BrokenSource(), 1024)
    with db.session() as s:
        job = s.scalars(select(QuantumSession)).one()
        assert (job.status, job.bits) == ("error", 0) and "backend unreachable" in (job.error or "")
        assert qrepo.pool_status(s)["last_job"]["status"] == "error"
    turn = sampling_for_turn(db, "msg-x", "ollama", 0.8, wait_s=WAIT_S)
    assert turn.record["source"] == "os" and turn.seed is not None and turn.notice


def test_os_source_fill(db: Database) -> None:
    assert pool.fill(db, OsSource(), 640) == 640
    with db.session() as s:
        assert qrepo.pool_status(s)["pool_bits_by_source"] == {"os": 640}
