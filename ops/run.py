"""`make run`: the Procfile's processes (web and scheduler) under honcho, started together and stopped
together: Ctrl-C, SIGTERM and SIGHUP (a closed terminal) to this process stop both, and either one
exiting stops the other. honcho itself handles only SIGINT and SIGTERM, and starts each process in a
session of its own, so a SIGHUP would have left both running; here SIGHUP is handled the same way.

    python ops/run.py [--port 8000]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from honcho.environ import expand_processes, parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

ROOT = Path(__file__).resolve().parent.parent


class HangUpProofManager(Manager):
    """honcho's manager, whose helper processes (one per process, relaying its output and exit) ignore
    SIGHUP: a closed terminal hangs up the whole job, and a helper killed by it would never report its
    process's exit, leaving the manager waiting for ever. The manager itself stops everything on it."""

    def _start(self):
        previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # inherited by the helpers forked here
        try:
            super()._start()
        finally:
            signal.signal(signal.SIGHUP, previous)


def build(procfile: Path, port: int) -> Manager:
    """A manager with one process per Procfile line; the venv's tools first on every PATH."""
    manager = HangUpProofManager(Printer(sys.stdout, colour=sys.stdout.isatty()))
    bin_dir = os.path.dirname(sys.executable)
    for process in expand_processes(parse_procfile(procfile.read_text()).processes, port=port):
        env = {**os.environ, **process.env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        manager.add_process(process.name, process.cmd, env=env, cwd=str(ROOT))
    return manager


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    args = parser.parse_args(argv)
    manager = build(args.procfile, args.port)

    def hang_up(_signum, _frame):
        manager.returncode = 129
        manager.terminate()

    signal.signal(signal.SIGHUP, hang_up)
    manager.loop()  # installs honcho's own SIGINT and SIGTERM handlers
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
