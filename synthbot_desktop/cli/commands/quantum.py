"""`synthbot-desktop quantum fill|status|export-bits|set-token`: the enhanced-mode randomness pool (issue #20)."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import UsageError


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "quantum", lambda ctx, args: args.qfunc(ctx, args),
                    "quantum randomness pool for `chat/talk --mode enhanced`")
    sub = p.add_subparsers(dest="quantum_command", metavar="ACTION", required=True)
    f = sub.add_parser("fill", help="draw random bits into the pool (progress on stderr)")
    f.add_argument("--source", choices=("aer", "ibm", "os"), required=True)
    f.add_argument("--bits", type=int, default=65536, help="how many bits to pool (default 65536)")
    f.add_argument("--backend", help="IBM backend name (default: the least busy operational one)")
    f.add_argument("--instance", help="IBM Quantum instance (CRN or hub/group/project)")
    f.add_argument("--url", help="IBM Quantum API URL (default: IBM's)")
    f.set_defaults(qfunc=_fill)
    s = sub.add_parser("status", help="sources, pool size and the last job")
    add_json_flag(s)
    s.set_defaults(qfunc=_status)
    e = sub.add_parser("export-bits", help="print pooled bits as 0/1 text (for audits)")
    e.add_argument("--count", type=int, required=True)
    e.set_defaults(qfunc=_export)
    t = sub.add_parser("set-token", help="store the IBM Quantum API token (read from stdin) in the keyring")
    t.set_defaults(qfunc=_set_token)


def _fill(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.keystore import get_ibm_quantum_token
    from synthbot_desktop.randomness.pool import fill
    from synthbot_desktop.randomness.sources import make_source

    if args.bits < 64:
        raise UsageError("--bits must be at least 64 (the pool stores 64-bit blocks)")
    if args.source == "ibm":
        from synthbot_desktop.services import features

        features.require(ctx, "feature.quantum.ibm")
    token = get_ibm_quantum_token(ctx.keystore) if args.source == "ibm" else None
    source = make_source(args.source, token=token, backend=args.backend, url=args.url, instance=args.instance)
    db = ctx.db
    outcome: dict[str, Any] = {}

    def work() -> None:  # the slow part runs off the main thread; the main thread only reports
        try:
            outcome["bits"] = fill(db, source, args.bits, on_progress=lambda m: print(m, file=sys.stderr, flush=True))
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="quantum-fill", daemon=True)
    print(f"filling the pool from {args.source} ({args.bits} bits) ...", file=sys.stderr, flush=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        err = outcome["error"]
        if isinstance(err, UsageError):
            raise err
        raise UsageError(f"the {args.source} job failed: {type(err).__name__}: {err}",
                         hint="see `synthbot-desktop quantum status`; enhanced mode falls back to the OS CSPRNG") from None
    print(f"pooled {outcome['bits']} bits", file=sys.stderr)
    return 0


def _sources() -> dict[str, bool]:
    import importlib.util

    return {"aer": importlib.util.find_spec("qiskit_aer") is not None,
            "ibm": importlib.util.find_spec("qiskit_ibm_runtime") is not None, "os": True}


def _status(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.keystore import get_ibm_quantum_token
    from synthbot_desktop.storage import quantum as qrepo

    with ctx.db.session() as s:
        status = qrepo.pool_status(s)
    status["sources"] = _sources()
    status["ibm_token_stored"] = get_ibm_quantum_token(ctx.keystore) is not None
    if args.json:
        print_json(status)
        return 0
    print("sources: " + ", ".join(f"{k} ({'installed' if v else 'not installed'})" for k, v in status["sources"].items()))
    print(f"pool: {status['pool_bits']} bits unused, {status['consumed_bits']} consumed "
          f"({', '.join(f'{k}: {v}' for k, v in status['pool_bits_by_source'].items()) or 'empty'})")
    last = status["last_job"]
    if last:
        print(f"last job: #{last['id']} {last['source']} on {last['backend']} {last['status']}"
              f" ({last['bits']} bits, {last['shots']} shots x {last['qubits']} qubits"
              + (f", job {last['job_id']}" if last["job_id"] else "")
              + (f", error: {last['error']}" if last["error"] else "") + ")")
    else:
        print("last job: none")
    return 0


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.storage import quantum as qrepo

    if args.count < 1:
        raise UsageError("--count must be at least 1")
    with ctx.db.session() as s:
        bits = qrepo.export_bits(s, args.count)
    sys.stdout.write(bits + "\n")
    if len(bits) < args.count:
        print(f"(only {len(bits)} bits are pooled)", file=sys.stderr)
    return 0


def _set_token(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.keystore import set_ibm_quantum_token

    token = sys.stdin.readline().strip()
    if not token:
        raise UsageError("no token on stdin", hint="echo TOKEN | synthbot-desktop quantum set-token")
    print(f"stored IBM Quantum token {set_ibm_quantum_token(ctx.keystore, token)}")
    return 0
