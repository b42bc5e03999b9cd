"""The IBM source (IbmSource) through the real qiskit-ibm-runtime 0.41.1 client against a local
fake of IBM's REST shapes (issue #20).

Real: our ``IbmSource`` and ``pool.fill`` (and SQLite rows), and all of qiskit-ibm-runtime's
client code on this path: ``QiskitRuntimeService`` construction, ``least_busy`` / ``backend()``,
``configuration_from_server_data`` and the ``IBMBackend`` target built from the JSON answers,
transpiling to that target, ``SamplerV2.run`` encoding the job with ``RuntimeEncoder``, its
``RetrySession`` HTTP calls (requests + urllib3), ``RuntimeJobV2.status()`` mapping the API's
``state.status``, and ``result()`` decoding the results body with ``RuntimeDecoder``; also
``ibm_cloud_sdk_core``'s real ``IAMTokenManager`` doing the API-key-for-token exchange.

Faked: the IBM services themselves, by ``tests/support/fake_ibm_runtime.py`` on 127.0.0.1 (IAM
``POST /identity/token`` and the runtime ``/api/v1`` backends/jobs endpoints; shapes read from
the client source; device configuration and properties are FakeManilaV2's JSON; the bits are a
seeded pattern, not quantum).

Patched, in this test only, two lookups that have no public override for a plain token +
instance CRN (docs/enhanced-mode.md):

- ``qiskit_ibm_runtime.api.auth.IAMTokenManager``: the name ``CloudAuth`` calls with the
  hard-wired ``https://iam.cloud.ibm.com``; the wrapper checks that URL and builds the real
  ``IAMTokenManager`` with the fake's URL instead.
- ``qiskit_ibm_runtime.api.client_parameters.default_runtime_url_resolver``: the wrapper runs the
  real resolver, checks it named ``https://quantum.cloud.ibm.com/api/v1``, and returns the fake's
  base URL (what the public ``url_resolver=`` argument would do; IbmSource does not expose it, and
  the default resolver drops a ``url=`` port when it builds ``quantum.<host>``).

A guard on ``socket.connect`` fails the test if anything tries a host other than loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.randomness import pool
from synthbot_desktop.randomness.sources import IbmSource
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import QuantumRandomNumber, QuantumSession
from tests.support.fake_ibm_runtime import FakeIbmRuntime

pytest.importorskip("qiskit_ibm_runtime")

CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/0123456789abcdef:11111111-2222-3333-4444-555555555555::"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    migrate.upgrade(engine)
    database = Database(engine)
    yield database
    database.dispose()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIbmRuntime]:
    import qiskit_ibm_runtime.api.auth as auth
    import qiskit_ibm_runtime.api.client_parameters as client_parameters

    real_token_manager = auth.IAMTokenManager
    real_resolver = client_parameters.default_runtime_url_resolver
    with FakeIbmRuntime() as server:
        def token_manager(api_key: str, url: str) -> Any:
            assert url == "https://iam.cloud.ibm.com"  # what the client would have called
            return real_token_manager(api_key, url=server.iam_url)

        def resolver(url: str, instance: str, private_endpoint: bool = False,
                     channel: str = "ibm_quantum_platform") -> str:
            assert real_resolver(url, instance, private_endpoint, channel) == "https://quantum.cloud.ibm.com/api/v1"
            return server.api_url

        real_connect = socket.socket.connect

        def loopback_only(sock: socket.socket, address: Any) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                assert address[0] in ("127.0.0.1", "::1"), f"the IBM test tried to reach {address}"
            real_connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", loopback_only)
        monkeypatch.setattr(auth, "IAMTokenManager", token_manager)
        monkeypatch.setattr(client_parameters, "default_runtime_url_resolver", resolver)
        yield server


def _source(token: str, **kw: Any) -> IbmSource:
    return IbmSource(token, instance=CRN, qubits=5, poll_s=0.01, timeout_s=15, **kw)


def test_ibm_job_over_rest_fills_the_pool(db: Database, fake: FakeIbmRuntime) -> None:
    statuses: list[str] = []
    assert pool.fill(db, _source(fake.api_key), 128, on_progress=statuses.append) == 128

    (job_id,) = fake.jobs
    job = fake.jobs[job_id]
    assert job.payload["program_id"] == "sampler" and job.payload["backend"] == "fake_manila"
    assert job.payload["params"]["pubs"][0][0].num_qubits == 5  # the transpiled Hadamard circuit
    queued, running = f"job {job_id} queued on fake_manila", f"job {job_id} running on fake_manila"
    assert queued in statuses and running in statuses and statuses.index(queued) < statuses.index(running)
    paths = fake.paths()
    assert paths[0] == "POST /identity/token" and paths.count("POST /identity/token") == 1
    assert "GET /api/v1/backends" in paths  # least_busy: no backend named
    assert {"GET /api/v1/backends/fake_manila/configuration", "GET /api/v1/backends/fake_manila/properties",
            "POST /api/v1/jobs", f"GET /api/v1/jobs/{job_id}/results"} <= set(paths)
    assert paths.count(f"GET /api/v1/jobs/{job_id}") == 3  # Queued, Running, Completed
    assert all(r.headers.get("service-crn") == CRN for r in fake.server.requests if r.path.startswith("/api/"))

    with db.session() as s:
        (row,) = s.scalars(select(QuantumSession)).all()
        blocks = s.scalars(select(QuantumRandomNumber)).all()
        assert (row.source, row.backend, row.job_id, row.status) == ("ibm", "fake_manila", job_id, "done")
        assert (row.bits, row.qubits, row.shots) == (128, 5, 26)  # ceil(128 / 5) shots
        assert row.queue_ms is not None and row.run_ms is not None
        assert len(blocks) == 2 and all(b.job_id == job_id for b in blocks)
    pooled = "".join(b.bits for b in blocks)
    assert pooled == _expected_bits(fake, job_id)[:128]  # exactly the bits the results body carried


def _expected_bits(fake: FakeIbmRuntime, job_id: str) -> str:
    import json

    from qiskit_ibm_runtime.utils.json import RuntimeDecoder

    result = json.loads(fake.sampler_result(fake.jobs[job_id]), cls=RuntimeDecoder)
    return "".join(result[0].data.c.get_bitstrings())


def test_ibm_job_ending_failed_is_one_clear_error(db: Database, fake: FakeIbmRuntime) -> None:
    fake.job_states = ["Queued", "Failed"]
    with pytest.raises(RuntimeError) as exc:
        pool.fill(db, _source(fake.api_key, backend="fake_manila"), 64)
    (job_id,) = fake.jobs
    line = f"IBM job {job_id} ended ERROR: Error code 1517; Job failed on the fake device"
    assert str(exc.value) == line  # one line, with IBM's reason (state.reason) in it
    with db.session() as s:
        (row,) = s.scalars(select(QuantumSession)).all()
        assert (row.backend, row.status, row.bits) == ("fake_manila", "error", 0)
        assert row.error == f"RuntimeError: {line}"  # the job id is in the error (the row's job_id is unset:
        # pool.fill only learns it from a successful draw)
        assert not s.scalars(select(QuantumRandomNumber)).all()


def test_rejected_api_key_reaches_us_as_no_backend(db: Database, fake: FakeIbmRuntime) -> None:
    """IAM refuses the key (400, as IAM answers an unknown API key): the client warns, sends the key
    itself as ``Authorization: apikey …``, the runtime answers 401, and the client's backend lookup
    swallows that ("Invalid instance") and reports no backend. This pins the client's behaviour; the
    fake's 401 for an ``apikey`` header is an assumption, not observed from IBM."""
    from qiskit.providers.exceptions import QiskitBackendNotFoundError

    with pytest.warns(UserWarning, match="Unable to retrieve IBM Cloud access token"), \
            pytest.raises(QiskitBackendNotFoundError):
        pool.fill(db, _source("wrong-key", backend="fake_manila"), 64)
    assert not fake.issued_tokens and not fake.jobs
    api = [r for r in fake.server.requests if r.path.startswith("/api/")]
    assert api and all(r.headers["authorization"] == "apikey wrong-key" for r in api)
    with db.session() as s:
        (row,) = s.scalars(select(QuantumSession)).all()
        assert row.status == "error" and row.error.startswith("QiskitBackendNotFoundError: 'No backend matches")
