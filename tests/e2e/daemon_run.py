"""A real `fail2ban-server -f` on temp files for end-to-end tests: config dir, log, socket, db, and a recording
command action that appends `ban <ip> <restored>` / `unban <ip>` lines to a file. Every wait is bounded; the
server is stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from banjail.control.client import request
from banjail.daemon.runtime import socket_alive

SERVER = [sys.executable, "-m", "banjail.cli.server"]
INSTALLED_SERVER = [str(Path(sys.executable).parent / "fail2ban-server")]


def server_tree(root: Path, extra: str = "", name: str = "fail2ban.conf") -> Path:
    """root/conf for either server (banjail's, or upstream's fail2ban-server 1.0.2 as an oracle): empty filter.d and
    action.d, and a fail2ban.conf (or `name`: fail2ban.local) putting the log, socket, pidfile and database under
    root (extra: more lines of its [Definition]). The caller writes the jails, filters and actions."""
    conf = root / "conf"
    (conf / "filter.d").mkdir(parents=True)
    (conf / "action.d").mkdir()
    (conf / name).write_text(
        f"[Definition]\nloglevel = INFO\nlogtarget = {root}/f2b.log\nsocket = {root}/f2b.sock\n"
        f"pidfile = {root}/f2b.pid\ndbfile = {root}/f2b.sqlite3\n{extra}"
    )
    return conf


def write_config(
    tmp: Path, *, bantime: str = "1h", maxretry: int = 3, findtime: str = "1h", norestored: bool = False
) -> Path:
    conf = server_tree(tmp, name="fail2ban.local")
    (conf / "jail.local").write_text(
        "[DEFAULT]\nignoreself = false\n[sshd]\nenabled = false\n"
        f"[test]\nenabled = true\nfilter = test\nlogpath = {tmp}/test.log\naction = rec\n"
        f"maxretry = {maxretry}\nfindtime = {findtime}\nbantime = {bantime}\n"
    )
    (conf / "filter.d" / "test.conf").write_text("[Definition]\nfailregex = fail from <HOST> port \\d+$\n")
    (conf / "action.d" / "rec.conf").write_text(
        "[Definition]\n"
        f"actionban = echo ban <ip> <restored> >> {tmp}/rec\n"
        f"actionunban = echo unban <ip> >> {tmp}/rec\n" + ("norestored = 1\n" if norestored else "")
    )
    (tmp / "test.log").touch()
    return conf


def write_jails(tmp: Path, jails: dict[str, str]) -> Path:
    """The write_config tree with jail.local replaced by `jails` (name: extra option lines), each enabled, on
    the `rec` action, banning at the first failure and reading TMP/NAME.log (created empty)."""
    conf = write_config(tmp, maxretry=1)
    text = "[DEFAULT]\nignoreself = false\naction = rec\nmaxretry = 1\nfilter = test\n[sshd]\nenabled = false\n"
    for name, extra in jails.items():
        text += f"[{name}]\nenabled = true\nlogpath = {tmp}/{name}.log\n{extra}"
        (tmp / f"{name}.log").touch()
    (conf / "jail.local").write_text(text)
    return conf


class Server:
    """One fail2ban-server process on the temp config."""

    def __init__(self, tmp: Path, prefix: tuple[str, ...] = (), command: Sequence[str] = SERVER) -> None:
        """prefix: argv the server runs behind (`ip netns exec NS` execs it in place: the PID stays its own);
        command: the server's own argv (INSTALLED_SERVER for the command a user runs)."""
        self.tmp = tmp
        self.prefix = prefix
        self.command = list(command)
        self.sock = str(tmp / "f2b.sock")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> Server:
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
        self.proc = subprocess.Popen(
            [*self.prefix, *self.command, "-f", "-x", "-c", str(self.tmp / "conf"), "start"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "stderr", "ab"),  # noqa: SIM115 - closed with the process
            env=env,
        )
        wait_for(lambda: socket_alive(self.sock, 0.2), timeout, "server socket")
        return self

    def ask(self, *argv: Any) -> object:
        return request(self.sock, list(argv), timeout=10)

    def kill(self, signum: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signum)

    def wait(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end in time (always ends the process)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within 15 s (waits up to 5 s more for that)."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def append(path: Path, texts: list[str]) -> None:
    with open(path, "a") as out:
        out.write("".join(t + "\n" for t in texts))
        out.flush()


def client(sock: str, *argv: str) -> str:
    """The installed `fail2ban-client -s SOCK ARGV...`'s output (asserts it exited 0)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "fail2ban-client"), "-s", sock, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout
