"""The IBM source (IbmSource) on qiskit-ibm-runtime's own offline fake backends (issue #20).

Not IBM's REST API (that is tests/integration/test_quantum_ibm_rest.py, against a local fake of
it, with the hard-wired IAM and runtime hosts redirected in that test). What this does run is
every line of our adapter after the service is built: backend choice, transpiling to
the device's gates, the SamplerV2 job, status polling, bit extraction, and the pool rows, with
``channel="local"`` (the runtime's documented local testing mode, Aer underneath, FakeManilaV2's
5-qubit layout and noise). Real SQLite and a fresh MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from synthbot_desktop.randomness import pool
from synthbot_desktop.randomness.sources import IbmSource, job_status_name
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import QuantumRandomNumber, QuantumSession

pytest.importorskip("qiskit_ibm_runtime")
pytest.importorskip("qiskit_aer")


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    engine = make_engine(any_db_url)
    migrate.upgrade(engine)
    database = Database(engine)
    yield database
    database.dispose()


def test_job_status_name_reads_both_status_types() -> None:
    from qiskit.providers import JobStatus

    assert job_status_name("DONE") == "DONE"  # RuntimeJobV2 (IBM's REST answer)
    assert job_status_name(JobStatus.DONE) == "DONE"  # local mode: str() would be "JobStatus.DONE"
    assert job_status_name(JobStatus.QUEUED) == "QUEUED"
    assert job_status_name("Running") == "RUNNING"


@pytest.mark.slow
def test_ibm_source_on_a_fake_device_fills_the_pool(db: Database) -> None:
    statuses: list[str] = []
    source = IbmSource("not-a-real-token", channel="local", backend="fake_manila", qubits=5, poll_s=0.02,
                       timeout_s=120)
    assert pool.fill(db, source, 256, on_progress=statuses.append) == 256
    with db.session() as s:
        (job,) = s.scalars(select(QuantumSession)).all()
        blocks = s.scalars(select(QuantumRandomNumber)).all()
        assert (job.source, job.backend, job.status, job.bits, job.qubits) == ("ibm", "fake_manila", "done", 256, 5)
        assert job.shots == 52 and job.job_id and len(job.job_id) >= 8  # ceil(256 / 5) shots
        assert job.queue_ms is not None and job.run_ms is not None
        assert len(blocks) == 4 and all(b.job_id == job.job_id and set(b.bits) <= {"0", "1"} for b in blocks)
    bits = "".join(b.bits for b in blocks)
    assert 0.3 < bits.count("1") / len(bits) < 0.7  # H on every qubit (noisy device): roughly balanced


def test_unknown_ibm_backend_is_an_error_job(db: Database) -> None:
    source = IbmSource("not-a-real-token", channel="local", backend="fake_nowhere", qubits=5)
    with pytest.raises(Exception):  # noqa: B017  (whatever the runtime raises is stored as the job's error)
        pool.fill(db, source, 64)
    with db.session() as s:
        (job,) = s.scalars(select(QuantumSession)).all()
        assert job.source == "ibm" and job.status == "error" and job.bits == 0 and job.error
