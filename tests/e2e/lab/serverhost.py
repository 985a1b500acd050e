"""A small "server host" inside the lab's server namespace: its own mounts, hostname and PID namespace.

`ip netns exec SRV unshare --mount --uts --pid --fork --mount-proc` gives a PID 1 whose exit takes every process
of the host down. Inside it, /run and /dev are private tmpfs (so sshd's /dev/log and /run/sshd exist only here),
/etc is an overlay over the real /etc on a tmpfs (test user, msmtprc, hosts and resolv.conf changed only here), and
the hostname is `srv`. Commands enter it with `nsenter`.

Guarantees: `close()` kills PID 1 (so every process started inside is gone) and waits for it; nothing in the real
/etc, /run or /dev is changed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

HOSTNAME = "srv"
DOMAIN = "lab.test"

# $1 is the lab's work directory. PID 1 ends as a reaper so orphans (daemon children) do not linger as zombies.
SETUP = r"""
set -e
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/olddev /run/sshd /run/etc-upper /run/etc-work
chmod 755 /run/sshd
mount --bind /dev /run/olddev
mount -t tmpfs -o mode=755 tmpfs /dev
for d in null zero full random urandom tty; do touch /dev/$d; mount --bind /run/olddev/$d /dev/$d; done
umount -l /run/olddev
mkdir /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
ln -s /proc/self/fd /dev/fd
mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/etc-upper,workdir=/run/etc-work /etc
hostname srv
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsrv.lab.test srv\n' > /etc/hosts
echo ready
exec "$0" -c 'import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)'
"""


class ServerHost:
    """PID 1 of the private host, and ways to run commands inside it."""

    def __init__(self, netns: str, workdir: Path) -> None:
        self.netns = netns
        self.workdir = workdir
        self._unshare: subprocess.Popen[str] | None = None
        self._started: list[subprocess.Popen[bytes]] = []  # nsenter processes of popen(), reaped by close()
        self.pid1 = 0

    def open(self) -> ServerHost:
        """Start PID 1 and wait until the mounts are in place; on failure, stop it and raise."""
        argv = [
            "ip", "netns", "exec", self.netns,
            "unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc", "--propagation", "private",
            "--kill-child", "sh", "-c", SETUP, sys.executable,
        ]  # fmt: skip
        self._unshare = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            assert self._unshare.stdout is not None
            line = self._unshare.stdout.readline()
            if line.strip() != "ready":
                self._unshare.kill()
                _out, err = self._unshare.communicate(timeout=5)
                raise RuntimeError(f"server host setup failed: {err.strip()}")
            self.pid1 = _first_child(self._unshare.pid, deadline=time.monotonic() + 5)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Kill PID 1 (the kernel then kills every process of the host) and the unshare parent; idempotent."""
        if self.pid1:
            _kill(self.pid1)
            self.pid1 = 0
        if self._unshare is not None:
            _kill(self._unshare.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._unshare.communicate(timeout=10)
            self._unshare = None
        # Their programs died with PID 1; each nsenter then exits (or is killed here) and is reaped.
        while self._started:
            process = self._started.pop()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                _kill(process.pid)
                process.wait(5)

    def argv(self, argv: Sequence[str]) -> list[str]:
        """argv prefixed so that it runs inside the host (mounts, UTS, PID and network namespaces)."""
        return ["nsenter", "-t", str(self.pid1), "-m", "-u", "-p", "-n", "--", *argv]

    def run(
        self,
        argv: Sequence[str],
        timeout: float = 30,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run argv inside the host and wait; with check, raise with its output when it fails."""
        run = subprocess.run(
            self.argv(argv), capture_output=True, text=True, timeout=timeout, check=False, env=_env(env)
        )
        if check and run.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} -> {run.returncode}\n{run.stdout}{run.stderr}")
        return run

    def popen(
        self, argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start argv inside the host with stdout and stderr to `log`; the Popen is nsenter, see inner_pid."""
        with log.open("ab") as out:
            process = subprocess.Popen(
                self.argv(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=_env(env)
            )
        self._started.append(process)
        return process

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        """Write a file as seen inside the host (e.g. in its private /etc)."""
        run = subprocess.run(
            self.argv(["sh", "-c", 'cat > "$1" && chmod "$2" "$1"', "write", path, oct(mode)[2:]]),
            input=text, capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        if run.returncode != 0:
            raise RuntimeError(f"writing {path}: {run.stderr.strip()}")


def inner_pid(process: subprocess.Popen[bytes], timeout: float = 5) -> int:
    """The host-side PID of the program nsenter started (nsenter forks to enter the PID namespace)."""
    return _first_child(process.pid, deadline=time.monotonic() + timeout)


def _first_child(pid: int, deadline: float) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    while time.monotonic() < deadline:
        try:
            found = children.read_text().split()
        except OSError:
            found = []
        if found:
            return int(found[0])
        time.sleep(0.01)
    raise RuntimeError(f"process {pid} started no child in time")


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _env(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    if extra is None:
        return None
    return {**os.environ, **extra}
