"""Fresh MariaDB databases for tests: created per run, dropped afterwards.

The machine's shared server is never stopped; an outage is simulated with :class:`TcpProxy`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
import uuid

import pymysql

HOST, PORT, USER = "127.0.0.1", 3306, "root"


def server_url(db: str) -> str:
    return f"mysql+pymysql://{USER}@{HOST}:{PORT}/{db}?charset=utf8mb4"


def ensure_server(timeout: float = 60.0) -> None:
    """Start the machine's MariaDB if it is down (as TESTING.md says), then wait for it."""
    def ping() -> bool:
        try:
            pymysql.connect(host=HOST, port=PORT, user=USER, password="", connect_timeout=2).close()
            return True
        except pymysql.err.OperationalError:
            return False

    if ping():
        return
    subprocess.run(["start-stop-daemon", "--start", "--oknodo", "--background", "--exec",
                    "/usr/sbin/mariadbd"], check=False, timeout=30)
    deadline = time.monotonic() + timeout
    while not ping():
        if time.monotonic() > deadline:
            raise RuntimeError("MariaDB at 127.0.0.1:3306 is not reachable and could not be started")
        time.sleep(0.5)


def create_database(prefix: str = "synthbot_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host=HOST, port=PORT, user=USER, password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    return name


def drop_database(name: str) -> None:
    conn = pymysql.connect(host=HOST, port=PORT, user=USER, password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


class TcpProxy:
    """A TCP forwarder we own, to cut the database connection without touching the server."""

    def __init__(self, target_host: str = HOST, target_port: int = PORT) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._running = True
        self._accepting = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._accepting:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones (the database 'goes away')."""
        self._accepting = False
        for c in self._conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self._conns.clear()

    def restore(self) -> None:
        self._accepting = True

    def close(self) -> None:
        self._running = False
        self.cut()
        self._listener.close()
