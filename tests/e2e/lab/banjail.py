"""banjail's fail2ban-server running inside the server host, driven by banjail's fail2ban-client (or upstream's
pair, for comparison).

The configuration directory is written by the test (`jail.local`, and a `fail2ban.local` that puts the socket,
pidfile, database and log under the work directory); banjail's stock tree fills in the rest.

Guarantees: `close()` leaves no server process behind (kill -9 by PID when a graceful stop did not end it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .serverhost import ServerHost, inner_pid

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Program:
    """Which fail2ban to run: its server and client, and the tree its config dir starts as a copy of."""

    server: str
    client: str
    base: Path | None  # None: an empty dir over banjail's stock tree


BANJAIL = Program(str(BIN / "fail2ban-server"), str(BIN / "fail2ban-client"), None)
# Upstream fail2ban (Debian's package) as the bar to compare with: its own /etc/fail2ban, copied.
UPSTREAM = Program("/usr/bin/fail2ban-server", "/usr/bin/fail2ban-client", Path("/etc/fail2ban"))


class Banjail:
    """One banjail daemon (restartable) with its config dir, socket, database and log in `workdir`."""

    def __init__(self, host: ServerHost, workdir: Path, jail_local: str, program: Program = BANJAIL) -> None:
        self.host = host
        self.workdir = workdir
        self.program = program
        self.conf = workdir / "conf"
        self.socket = workdir / "f2b.sock"
        self.log = workdir / "banjail.log"
        if program.base is not None:
            shutil.copytree(program.base, self.conf)
        self.conf.mkdir(parents=True, exist_ok=True)
        (self.conf / "fail2ban.local").write_text(
            "[Definition]\n"
            f"loglevel = INFO\nlogtarget = {self.log}\nsocket = {self.socket}\n"
            f"pidfile = {workdir / 'f2b.pid'}\ndbfile = {workdir / 'f2b.sqlite3'}\n"
        )
        (self.conf / "jail.local").write_text(jail_local)
        self._process: subprocess.Popen[bytes] | None = None
        self.pid = 0

    def start(self, timeout: float = 20) -> None:
        """Start `fail2ban-server -f -x start` inside the host and wait until it answers ping."""
        assert self._process is None, "already running"
        argv = [self.program.server, "-f", "-x", "-c", str(self.conf), "start"]
        self._process = self.host.popen(argv, self.workdir / "server.out")
        self.pid = inner_pid(self._process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"fail2ban-server exited {self._process.returncode}:\n{self.output()}")
            if self.client("ping", check=False)[1] == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"fail2ban-server did not answer ping in {timeout} s:\n{self.output()}")

    def client(self, *args: str, check: bool = True) -> tuple[str, int]:
        """Run banjail's fail2ban-client against this server; (stdout, exit status)."""
        run = self.host.run([self.program.client, "-s", str(self.socket), *args], check=False, timeout=60)
        if check and run.returncode != 0:
            raise RuntimeError(
                f"fail2ban-client {' '.join(args)} -> {run.returncode}: {run.stdout}{run.stderr}"
            )
        return run.stdout, run.returncode

    def stop(self, *options: str, timeout: float = 20) -> None:
        """Graceful stop (`fail2ban-client stop [OPTIONS]`, e.g. `--unban`), then wait for the process to end."""
        self.client("stop", *options)
        self._wait(timeout)

    def terminate(self, timeout: float = 20) -> None:
        """SIGTERM (what `systemctl stop` sends), then wait for the process to end."""
        os.kill(self.pid, signal.SIGTERM)
        self._wait(timeout)

    def kill(self) -> None:
        """kill -9 the server."""
        os.kill(self.pid, signal.SIGKILL)
        self._wait(10)

    def close(self) -> None:
        """Make sure no server is left (idempotent)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self._wait(10)

    def output(self) -> str:
        """What the server printed, and its log file."""
        parts = []
        for path in (self.workdir / "server.out", self.log):
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)

    def _wait(self, timeout: float) -> None:
        assert self._process is not None
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self._process.wait(10)
            raise RuntimeError(f"fail2ban-server did not end in {timeout} s; killed") from None
        finally:
            if self._process.poll() is not None:
                self._process = None
