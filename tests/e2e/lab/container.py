"""A throwaway machine with a real systemd as PID 1: `systemd-nspawn -b` on a root made of the host's /usr.

The root is a temporary directory holding a copy of the host's /etc (with every enabled unit switched off, so
only what the test installs runs), the usr-merge symlinks, and read-only binds of /usr, of the Python that the
test venv is built on and of the project checkout (at the same paths, so the venv's scripts work unchanged).
`--private-network` gives the machine its own network namespace: whatever banjail does to its firewall stays
inside. No machine registration and no scope unit are asked for (there is no system bus on the host).

Guarantees: `close()` kills the nspawn process (which takes the machine and every process in it down), waits for
it, and removes the root directory; nothing on the host outside that directory is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

NSPAWN = "/usr/bin/systemd-nspawn"
SYSTEMD = "/lib/systemd/systemd"


def support() -> str:
    """Why a container cannot be booted here ("" when it can)."""
    for program in (NSPAWN, SYSTEMD):
        if not Path(program).exists():
            return f"{program} is missing: install systemd-container and systemd (tools/install-test-deps)"
    if os.geteuid() != 0:
        return "booting a container needs root"
    return ""


def _root(directory: Path) -> None:
    for name in ("usr", "var", "tmp", "root", "run", "proc", "sys", "dev", "opt", "home", "srv", "mnt"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    for name in ("bin", "lib", "lib64", "sbin"):
        (directory / name).symlink_to(f"usr/{name}")
    shutil.copytree("/etc", directory / "etc", symlinks=True, ignore_dangling_symlinks=True)
    etc = directory / "etc"
    # nspawn looks for os-release before /usr is bound: a real file, not Debian's symlink into /usr.
    (etc / "os-release").unlink(missing_ok=True)
    shutil.copyfile("/usr/lib/os-release", etc / "os-release")
    (etc / "machine-id").write_text("")
    # Only what the test installs may start: every unit the host enabled is switched off here.
    system = etc / "systemd" / "system"
    for wants in system.glob("*.wants"):
        if wants.name not in ("sysinit.target.wants", "sockets.target.wants"):
            shutil.rmtree(wants)
    for link in (system / "sysinit.target.wants").glob("*"):
        if link.name not in ("systemd-journald.service",):
            link.unlink()


class Machine:
    """One booted container; `run(argv)` executes a command inside it (all its namespaces)."""

    def __init__(self, tmp: Path, binds: Sequence[str] = ()) -> None:
        self.root = tmp / "machine-root"
        self.binds = tuple(dict.fromkeys([sys.base_prefix, *binds]))
        self.name = f"bj{os.getpid()}"
        self.process: subprocess.Popen[bytes] | None = None
        self.console = tmp / "machine-console.log"
        self.leader = 0

    def boot(self, timeout: float = 60.0) -> Machine:
        """Boot and wait until systemd has finished starting up (running or degraded)."""
        _root(self.root)
        argv = [NSPAWN, "--quiet", "--keep-unit", "--register=no", "--private-network", "-D", str(self.root),
                f"--machine={self.name}", "--bind-ro=/usr"]
        argv += [f"--bind-ro={path}" for path in self.binds]
        argv += ["-b"]
        with self.console.open("wb") as console:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console, stderr=console,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"systemd-nspawn exited {self.process.returncode}: {self.console.read_text()}")
            self.leader = self._leader()
            if self.leader:
                state = self.run(["systemctl", "is-system-running"], timeout=10).stdout.strip()
                if state in ("running", "degraded"):
                    return self
            time.sleep(0.3)
        raise RuntimeError(f"the machine did not finish booting in {timeout} s: {self.console.read_text()[-2000:]}")

    def _leader(self) -> int:
        """The container's PID 1 as the host sees it: the child of nspawn that runs systemd."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            return 0
        for pid in pids:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return pid
        return 0

    def run(self, argv: Sequence[str], timeout: float = 30.0, check: bool = False,
            input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run argv inside the machine (its mount, network, pid, uts and ipc namespaces, root and cwd /)."""
        enter = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "--root", "--wd=/",
                 "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8",
                 "SYSTEMD_COLORS=0", "SYSTEMD_PAGER="]
        done = subprocess.run([*enter, *argv], capture_output=True, text=True, timeout=timeout, check=False,
                              input=input_text)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stdout}{done.stderr}")
        return done

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        """Write a file inside the machine's root (path is absolute inside the machine)."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)

    def close(self) -> None:
        """Take the machine down and remove its root."""
        # Killing the machine's PID 1 ends every process of its PID namespace; nspawn then exits by itself.
        if self.leader:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.leader, signal.SIGKILL)
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        shutil.rmtree(self.root, ignore_errors=True)
