"""A real ``gunicorn -w N`` serving a test database, for the tests that need several worker processes
(tests/test_message_burst.py, tests/test_security_limits.py); kept out of conftest.py as a plain helper."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(database_url: str, log: Path, app: str, *, workers: int = 4,
             secret: str = "gunicorn-test-secret") -> Iterator[int]:  # noqa: S107 (a test-only key)
    """``gunicorn -w workers`` on 127.0.0.1 and a free port serving ``app`` (a create_app(...) expression)
    on ``database_url``, its output appended to ``log``; yields the port once /healthz answers, and stops
    it (terminate, then kill) on leaving. The rate limiter stores in the database, as in production."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret, "PYTHONPATH": str(ROOT)}
    env.pop("RATELIMIT_STORAGE_URI", None)  # the default: the database
    with log.open("a") as out:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60",
             "--graceful-timeout", "5", "--log-level", "warning", app],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
