"""A few-line MCP server for tests, on the official SDK (2.x ``MCPServer``; 1.x called it FastMCP).

``python -m tests.support.mcp_server [stdio|http PORT|garbage|crash]``: ``garbage`` prints
non-protocol text on stdout first, ``crash`` exits before answering (both write to stderr).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("synthbot-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@server.tool()
async def slow(seconds: float) -> str:
    """Wait, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool()
def fail(message: str) -> str:
    """Always raises."""
    raise ValueError(message)


@server.tool()
def env_digest(name: str) -> str:
    """The SHA-256 of environment variable ``name`` ("unset" when missing): proves the value arrived
    without echoing it (our redactor would mask a known secret in a tool result anyway)."""
    import hashlib

    value = os.environ.get(name)
    return "unset" if value is None else hashlib.sha256(value.encode()).hexdigest()


@server.tool()
def die() -> str:
    """The server process exits mid-call."""
    sys.stderr.write("fatal: die() was called\n")
    sys.stderr.flush()
    os._exit(3)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "garbage":
        sys.stderr.write("starting up the garbage server\n")
        sys.stderr.flush()
        while True:  # never speaks the protocol
            sys.stdout.write("Hello! This is not JSON-RPC.\n")
            sys.stdout.flush()
            asyncio.run(asyncio.sleep(0.05))
    if mode == "crash":
        sys.stderr.write("Traceback: ImportError: no module named 'missing_dependency'\n")
        sys.exit(2)
    if mode == "http":
        server.run("streamable-http", port=int(sys.argv[2]))
    else:
        server.run("stdio")
