"""The RandomnessSource protocol and its three implementations.

Quantum sources measure n qubits put into equal superposition by Hadamard gates; each shot
yields n bits. Filling the pool is slow (seconds on Aer, minutes of queue on IBM hardware),
which is why sources only ever run in ``quantum fill``, never during a turn.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from synthbot_desktop.errors import UsageError

SOURCES = ("aer", "ibm", "os")


@dataclass
class DrawResult:
    """Bits from one job, with what ``quantum_sessions`` records about it."""

    source: str
    backend: str
    bits: str  # '0'/'1' text
    shots: int
    qubits: int
    job_id: str | None = None
    queue_ms: int | None = None
    run_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class RandomnessSource(Protocol):
    name: str
    backend: str

    def draw(self, n_bits: int, on_status: Callable[[str], None] | None = None) -> DrawResult:
        """Return at least ``n_bits`` random bits (may raise on backend failure)."""
        ...


class OsSource:
    """The OS CSPRNG (``secrets``): always available, instant; the fallback of every path."""

    name = "os"
    backend = "os.urandom"

    def draw(self, n_bits: int, on_status: Callable[[str], None] | None = None) -> DrawResult:
        value = secrets.randbits(n_bits) if n_bits else 0
        return DrawResult("os", self.backend, format(value, f"0{n_bits}b") if n_bits else "", shots=0, qubits=0)


def _qiskit() -> Any:
    try:
        import qiskit
    except ImportError:
        raise UsageError("Qiskit is not installed",
                         hint="pip install 'synthbot-desktop[quantum]' (or use --source os)") from None
    return qiskit


def hadamard_circuit(qubits: int) -> Any:
    """n qubits, each H then measured: every outcome equally likely in the ideal machine."""
    qiskit = _qiskit()
    qc = qiskit.QuantumCircuit(qubits, qubits)
    qc.h(range(qubits))
    qc.measure(range(qubits), range(qubits))
    return qc


def _shots_for(n_bits: int, qubits: int) -> int:
    return max(1, -(-n_bits // qubits))


class AerSource:
    """The local Qiskit Aer simulator: a stand-in for hardware (pseudo-random underneath, seeded from the OS)."""

    name = "aer"

    def __init__(self, qubits: int = 16) -> None:
        self.qubits = qubits
        self.backend = "aer_simulator"

    def draw(self, n_bits: int, on_status: Callable[[str], None] | None = None) -> DrawResult:
        _qiskit()
        try:
            from qiskit_aer import AerSimulator
        except ImportError:
            raise UsageError("qiskit-aer is not installed", hint="pip install 'synthbot-desktop[quantum]'") from None
        shots = _shots_for(n_bits, self.qubits)
        sim = AerSimulator(seed_simulator=secrets.randbits(31))
        t0 = time.monotonic()
        if on_status:
            on_status("running")
        result = sim.run(hadamard_circuit(self.qubits), shots=shots, memory=True).result()
        bits = "".join(result.get_memory())
        return DrawResult("aer", self.backend, bits[:n_bits], shots=shots, qubits=self.qubits,
                          run_ms=int((time.monotonic() - t0) * 1000))


def job_status_name(status: Any) -> str:
    """'DONE', 'QUEUED', ... from either status type the runtime returns.

    IBM's RuntimeJobV2 answers a plain string ("DONE"); local-mode and older jobs answer qiskit's
    ``JobStatus`` enum, whose ``str()`` is "JobStatus.DONE" / "jobstatus.done". Comparing ``str()``
    with "DONE" would poll such a job until the timeout (found by testing on the runtime's fake backends).
    """
    name = getattr(status, "name", None)
    return str(name if isinstance(name, str) else status).strip().upper()


def _job_reason(job: Any) -> str:
    """': <IBM's reason>' for a failed job, one line (the client's message is "Job X has failed:\\n<reason>")."""
    try:
        message = job.error_message() if hasattr(job, "error_message") else None
    except Exception:  # the reason is a courtesy: never hide the status behind a second failure
        return ""
    lines = [line.strip() for line in str(message or "").splitlines() if line.strip()]
    return f": {lines[-1]}" if lines else ""


class IbmSource:
    """IBM Quantum hardware through ``qiskit-ibm-runtime`` (SamplerV2 job; token from the keyring).

    ``url`` is for tests and private deployments; the default is IBM's own endpoint.
    """

    name = "ibm"

    def __init__(self, token: str, *, backend: str | None = None, channel: str = "ibm_quantum_platform",
                 instance: str | None = None, url: str | None = None, qubits: int = 8,
                 poll_s: float = 5.0, timeout_s: float = 3600.0) -> None:
        self._token = token
        self.backend = backend or "least_busy"
        self._backend_name = backend
        self._channel, self._instance, self._url = channel, instance, url
        self.qubits, self._poll_s, self._timeout_s = qubits, poll_s, timeout_s

    def draw(self, n_bits: int, on_status: Callable[[str], None] | None = None) -> DrawResult:
        _qiskit()
        try:
            from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
            from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2
        except ImportError:
            raise UsageError("qiskit-ibm-runtime is not installed", hint="pip install 'synthbot-desktop[quantum]'") from None
        kwargs: dict[str, Any] = {"channel": self._channel, "token": self._token}
        if self._instance:
            kwargs["instance"] = self._instance
        if self._url:
            kwargs["url"] = self._url
        service = QiskitRuntimeService(**kwargs)
        backend = (service.backend(self._backend_name) if self._backend_name
                   else service.least_busy(operational=True, simulator=False, min_num_qubits=self.qubits))
        self.backend = backend.name
        shots = _shots_for(n_bits, self.qubits)
        isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(hadamard_circuit(self.qubits))
        job = SamplerV2(mode=backend).run([isa], shots=shots)
        t0 = time.monotonic()
        queued_until: float | None = None
        status = job_status_name(job.status())
        while status not in ("DONE", "ERROR", "CANCELLED"):
            if on_status:
                on_status(f"job {job.job_id()} {status.lower()} on {backend.name}")
            if status == "RUNNING" and queued_until is None:
                queued_until = time.monotonic()
            if time.monotonic() - t0 > self._timeout_s:
                raise TimeoutError(f"IBM job {job.job_id()} still {status} after {self._timeout_s:.0f} s")
            time.sleep(self._poll_s)
            status = job_status_name(job.status())
        if status != "DONE":
            raise RuntimeError(f"IBM job {job.job_id()} ended {status}{_job_reason(job)}")
        t1 = time.monotonic()
        pub = job.result()[0]
        bits = "".join(pub.data.c.get_bitstrings()) if hasattr(pub.data, "c") else "".join(
            next(iter(pub.data.values())).get_bitstrings())
        queue_ms = int(((queued_until or t1) - t0) * 1000)
        return DrawResult("ibm", backend.name, bits[:n_bits], shots=shots, qubits=self.qubits, job_id=job.job_id(),
                          queue_ms=queue_ms, run_ms=int((t1 - (queued_until or t1)) * 1000))


def make_source(name: str, *, token: str | None = None, backend: str | None = None, url: str | None = None,
                instance: str | None = None) -> RandomnessSource:
    if name == "aer":
        return AerSource()
    if name == "os":
        return OsSource()
    if name == "ibm":
        if not token:
            raise UsageError("no IBM Quantum token is stored",
                             hint="echo TOKEN | synthbot-desktop quantum set-token (or set SYNTHBOT_IBM_QUANTUM_API_KEY)")
        return IbmSource(token, backend=backend, url=url, instance=instance)
    raise UsageError(f"unknown randomness source {name!r}; expected one of: {', '.join(SOURCES)}")
