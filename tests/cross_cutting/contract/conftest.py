"""Contract-suite fixtures: Stoplight Prism serving Twilio's OpenAPI description on a free local port."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO.parent / "shared" / "twilio" / "twilio_messages_v2010.json"
STARTUP_S = 20.0
INSTALL_HINT = (
    "install it with `bench/prism.sh` (then PRISM_BIN=$(bench/prism.sh)) "
    "or `npm install --no-save @stoplight/prism-cli@5.14.2` in the repository"
)


def prism_binary() -> Path:
    """The Prism executable: `PRISM_BIN`, else `<repo>/node_modules/.bin/prism`."""
    return Path(os.environ.get("PRISM_BIN") or REPO / "node_modules" / ".bin" / "prism")


def _unavailable(reason: str) -> None:
    # CI sets REQUIRE_PRISM=1 so that a missing stand-in fails the build instead of skipping silently.
    if os.environ.get("REQUIRE_PRISM") == "1":
        pytest.fail(f"contract suite cannot run: {reason}", pytrace=False)
    pytest.skip(f"contract suite skipped: {reason}")


def _check_prerequisites(binary: Path) -> None:
    if not SPEC.is_file():
        _unavailable(f"Twilio spec not found at {SPEC} (it lives in the shared checkout next to the repo)")
    if not binary.exists():
        _unavailable(f"Prism not found at {binary}; {INSTALL_HINT}")
    if shutil.which("node") is None:
        _unavailable("Prism needs Node.js >= 18.20.1 on PATH")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Prism exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            # Waiting on the process doubles as the poll interval and notices an early exit.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
    pytest.fail(
        f"Prism did not listen on port {port} within {STARTUP_S:.0f} s:\n{log.read_text()}", pytrace=False
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Prism on the Twilio Messages spec for the session; yield its base URL."""
    binary = prism_binary()
    _check_prerequisites(binary)
    port = _free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    command = [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(SPEC)]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_listening(proc, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
