"""A local fake of the IBM Quantum Platform REST shapes that ``qiskit-ibm-runtime`` 0.41.1 uses
on IbmSource's path (issue #20), built on :mod:`tests.support.fake_http`.

Shapes were read from the client's own source (``api/rest/runtime.py``, ``cloud_backend.py``,
``program_job.py``, ``runtime_job_v2.py``, ``base_runtime_job.py``, ``utils/json.py``) and
``ibm_cloud_sdk_core``'s ``IAMTokenManager``:

- ``POST /identity/token`` (IAM, form ``grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=…``)
  answers ``{access_token, refresh_token, token_type, expires_in, expiration}``, or 400 with IAM's
  error body for an unknown key.
- ``GET  /api/v1/backends`` -> ``{"devices": [{name, status: {name, reason}, qubits, queue_length}]}``
- ``GET  /api/v1/backends/{name}/configuration`` and ``/properties``: FakeManilaV2's JSON files,
  which are snapshots of these very endpoints shipped inside the client.
- ``POST /api/v1/jobs`` (RuntimeEncoder JSON: program_id, backend, params.pubs) -> ``{id, backend}``
- ``GET  /api/v1/jobs/{id}`` -> ``{id, status, state: {status: Queued|Running|Completed|Failed, reason, reasonCode}}``,
  advancing one state per poll along the job's scripted sequence.
- ``GET  /api/v1/jobs/{id}/results`` (a failed job: its error text, which the client reads for
  ``error_message()``) -> RuntimeEncoder JSON of a SamplerV2 ``PrimitiveResult``
  (one ``SamplerPubResult`` whose ``DataBin`` holds a ``BitArray`` named after the circuit's
  classical register), decoded by the client's own ``RuntimeDecoder``.

Every request needs ``Authorization: Bearer <the token IAM issued>`` and ``Service-CRN``; anything
else answers 401 as IBM does. The bits are a fixed, seeded pattern, not quantum.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests.support.fake_http import FakeServer, Request, Response

_API = "/api/v1"


def _manila_json(name: str) -> dict[str, Any]:
    import qiskit_ibm_runtime.fake_provider.backends.manila as manila

    data: dict[str, Any] = json.loads((Path(manila.__file__).parent / name).read_text())
    return data


@dataclass
class FakeJob:
    id: str
    backend: str
    payload: dict[str, Any]
    states: list[str]
    polls: int = 0
    reason: str | None = None


@dataclass
class FakeIbmRuntime:
    """IAM + runtime API on one 127.0.0.1 server. ``api_key`` is the only key IAM accepts."""

    api_key: str = "fake-ibm-api-key"
    backend_name: str = "fake_manila"
    #: status sequence each new job walks through, one step per GET /jobs/{id}
    job_states: list[str] = field(default_factory=lambda: ["Queued", "Running", "Completed"])
    fail_reason: str = "Job failed on the fake device"
    fail_code: int = 1517
    seed: int = 20
    server: FakeServer = field(default_factory=FakeServer)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    issued_tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.server
        s.add("POST", r"/identity/token", self._iam_token)
        s.add("GET", rf"{_API}/backends", self._authed(self._backends))
        s.add("GET", rf"{_API}/backends/(?P<name>[^/]+)/configuration", self._authed(self._configuration))
        s.add("GET", rf"{_API}/backends/(?P<name>[^/]+)/properties", self._authed(self._properties))
        s.add("GET", rf"{_API}/backends/(?P<name>[^/]+)/status", self._authed(self._status))
        s.add("POST", rf"{_API}/jobs", self._authed(self._submit))
        s.add("GET", rf"{_API}/jobs/(?P<id>[^/]+)", self._authed(self._job))
        s.add("GET", rf"{_API}/jobs/(?P<id>[^/]+)/results", self._authed(self._results))

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FakeIbmRuntime:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def iam_url(self) -> str:
        return self.server.url

    @property
    def api_url(self) -> str:
        return self.server.url + _API

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.server.requests]

    # -- IAM ---------------------------------------------------------------------------------
    def _iam_token(self, req: Request) -> Response:
        form = parse_qs(req.body.decode())
        if form.get("grant_type") != ["urn:ibm:params:oauth:grant-type:apikey"]:
            return Response.json({"errorCode": "BXNIM0439E", "errorMessage": "Unsupported grant type"}, 400)
        if form.get("apikey") != [self.api_key]:
            return Response.json({"errorCode": "BXNIM0415E",
                                  "errorMessage": "Provided API key could not be found.",
                                  "context": {"requestId": "fake"}}, 400)
        now = int(time.time())
        token = _jwt({"iat": now, "exp": now + 3600, "sub": "fake"})
        self.issued_tokens.append(token)
        return Response.json({"access_token": token, "refresh_token": "not_supported", "token_type": "Bearer",
                              "expires_in": 3600, "expiration": now + 3600, "scope": "ibm openid"})

    def _authed(self, handler: Any) -> Any:
        def wrapped(req: Request) -> Response:
            auth = req.headers.get("authorization", "")
            if not (auth.startswith("Bearer ") and auth[7:] in self.issued_tokens and req.headers.get("service-crn")):
                return Response.json({"errors": [{"code": "unauthorized", "message": "Unauthorized"}],
                                      "trace": "fake", "status_code": 401}, 401)
            out: Response = handler(req)
            return out

        return wrapped

    # -- backends ----------------------------------------------------------------------------
    def _backends(self, req: Request) -> Response:
        return Response.json({"devices": [{"name": self.backend_name, "status": {"name": "online",
                              "reason": "available"}, "qubits": 5, "queue_length": 3, "is_simulator": False}]})

    def _known(self, req: Request) -> bool:
        return bool(req.match and req.match["name"] == self.backend_name)

    def _configuration(self, req: Request) -> Response:
        if not self._known(req):
            return Response.json({"errors": [{"code": "not_found", "message": "Backend not found"}]}, 404)
        conf = _manila_json("conf_manila.json")
        conf["backend_name"] = self.backend_name
        return Response.json(conf)

    def _properties(self, req: Request) -> Response:
        if not self._known(req):
            return Response.json({"errors": [{"code": "not_found", "message": "Backend not found"}]}, 404)
        props = _manila_json("props_manila.json")
        props["backend_name"] = self.backend_name
        return Response.json(props)

    def _status(self, req: Request) -> Response:
        return Response.json({"state": True, "status": "active", "message": "available", "length_queue": 3,
                              "backend_version": "1.0.0"})

    # -- jobs --------------------------------------------------------------------------------
    def _submit(self, req: Request) -> Response:
        from qiskit_ibm_runtime.utils.json import RuntimeDecoder

        payload = json.loads(req.body, cls=RuntimeDecoder)  # the circuits arrive as encoded QPY
        job_id = "d" + uuid.uuid4().hex[:19]
        self.jobs[job_id] = FakeJob(job_id, payload.get("backend", self.backend_name), payload,
                                    list(self.job_states))
        return Response.json({"id": job_id, "backend": payload.get("backend", self.backend_name)})

    def _find_job(self, req: Request) -> FakeJob | None:
        return self.jobs.get(req.match["id"]) if req.match else None

    def _job(self, req: Request) -> Response:
        job = self._find_job(req)
        if job is None:
            return Response.json({"errors": [{"code": "not_found", "message": "Job not found"}]}, 404)
        state = job.states[min(job.polls, len(job.states) - 1)]
        job.polls += 1
        body: dict[str, Any] = {"id": job.id, "backend": job.backend, "program": {"id": "sampler"},
                                "status": state, "state": {"status": state},
                                "created": "2026-01-01T00:00:00Z"}
        if state == "Failed":
            body["state"].update(reason=self.fail_reason, reasonCode=self.fail_code)
        return Response.json(body)

    def _results(self, req: Request) -> Response:
        job = self._find_job(req)
        if job is None:
            return Response.json({"errors": [{"code": "not_found", "message": "Job not found"}]}, 404)
        if "Failed" in job.states[:job.polls]:  # a failed job's results are its error text
            return Response(200, {"content-type": "text/plain"}, f"Error code {self.fail_code}: {self.fail_reason}".encode())
        return Response.raw_json(self.sampler_result(job))

    def sampler_result(self, job: FakeJob) -> str:
        """The results body: what the service stores for a finished SamplerV2 job."""
        import numpy as np
        from qiskit.primitives import BitArray, DataBin, PrimitiveResult, SamplerPubResult
        from qiskit_ibm_runtime.utils.json import RuntimeEncoder

        (pub,) = job.payload["params"]["pubs"]
        circuit = pub[0] if isinstance(pub, list | tuple) else pub
        shots = int(job.payload["params"].get("shots") or (pub[2] if isinstance(pub, list | tuple) and len(pub) > 2
                                                             else 0))
        creg = circuit.cregs[0]
        rng = np.random.default_rng(self.seed)
        samples = rng.integers(0, 2 ** creg.size, size=shots)
        bits = BitArray.from_samples(samples.tolist(), num_bits=creg.size)
        result = PrimitiveResult([SamplerPubResult(DataBin(**{creg.name: bits}, shape=()), metadata={})],
                                 metadata={"version": 2})
        return json.dumps(result, cls=RuntimeEncoder)


def _jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT: IAMTokenManager decodes ``exp``/``iat`` without verifying the signature."""
    import base64

    def seg(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'HS256', 'typ': 'JWT'})}.{seg(claims)}.c2ln"
