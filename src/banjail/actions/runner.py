"""Running one action command: `/bin/sh -c SCRIPT` in its own session, with a timeout that kills the whole
process group, optionally behind an argv prefix (e.g. `ip netns exec NS`).

A ban runs one command, so starting it is the daemon's main cost per ban once matching is cheap. The command is
started with `os.posix_spawn` (glibc's clone(CLONE_VM|CLONE_VFORK): no copy of the daemon's memory) and waited
for through its pidfd in the loop's one epoll of commands (banjail.actions.reaper: no selector registration and
no timer per command). No pipe and no asyncio transport is involved: stdin is /dev/null or an
anonymous in-memory file (memfd) holding the bytes to feed; stdout and stderr each go to a memfd whose last
64 KiB are read once the command has exited. So the output is still captured (it is logged, and actioncheck /
whois / nft listings read it), but costs nothing on the event loop while the command runs. A daemonised
grandchild that keeps the output open no longer holds the result back: the result is the shell's exit.
Where the kernel has no pidfd (Linux < 5.3) asyncio's subprocess machinery runs it as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from banjail.actions.reaper import for_loop as reaper_for
from banjail.actions.render import Script

SHELL = "/bin/sh"  # upstream runs commands with shell=True, i.e. /bin/sh
_GRACE = 0.5  # seconds between SIGTERM and SIGKILL of a timed-out process group
_OUTPUT_LIMIT = 64 * 1024  # bytes of stdout/stderr kept for messages


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command ended. returncode is None when it timed out (and its process group was killed)."""

    script: str
    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        """One message naming the result and the output, for logs and ActionError."""
        if self.returncode is None:
            head = f"timed out after {self.seconds:g} s (process group killed)"
        else:
            head = f"exit status {self.returncode}"
        parts = [head]
        for label, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                parts.append(f"{label}: {text.strip()}")
        return "; ".join(parts)


def _environment() -> dict[str, str]:
    return dict(os.environ)


@dataclass(frozen=True)
class Runner:
    """Runs scripts. prefix: argv placed before the shell (["ip", "netns", "exec", "NS"]); env: extra
    variables for every command (a test's PATH, for instance). Commands get the environment the process had when
    the Runner was made (an action is made at start and at each reload), then env, then the script's own."""

    prefix: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # Decoded once: os.environ decodes every name and value at each read, 15 us per command with 39 variables.
    base: Mapping[str, str] = field(default_factory=_environment, repr=False, compare=False)

    async def run(self, script: Script, timeout: float) -> Outcome:
        """Run `script`; never raises for a failing command (see Outcome), only for an unusable shell."""
        text = script.text
        if not text.strip():
            return Outcome(text, 0)
        env = {**self.base, **self.env, **script.env} if self.env or script.env else self.base
        argv = [*self.prefix, SHELL, "-c", text]
        if _LEAN:  # run_process's choice, one coroutine layer less: this runs at every ban
            return await _spawned(argv, env, text, None, timeout)
        return await _asyncio_subprocess(argv, env, text, None, timeout)


def _lean() -> bool:
    """Whether this kernel and sandbox give pidfds and memfds (a seccomp filter may refuse either)."""
    try:
        os.close(os.pidfd_open(os.getpid()))
        os.close(os.memfd_create("banjail-probe", os.MFD_CLOEXEC))
    except (AttributeError, OSError):
        return False
    return hasattr(os, "posix_spawn")


_DEFAULT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ", "SIGXFZ") if hasattr(signal, name))
_LEAN = _lean()


async def run_process(
    argv: Sequence[str], *, env: Mapping[str, str], label: str, stdin: bytes | None, timeout: float
) -> Outcome:
    """Run argv in its own session (stdin: bytes fed to it, or None for /dev/null); never raises for a failing
    program. On timeout or cancellation the whole process group is killed; 127 means it could not start.
    stdout and stderr keep their last 64 KiB each."""
    if _LEAN:
        return await _spawned(argv, env, label, stdin, timeout)
    return await _asyncio_subprocess(argv, env, label, stdin, timeout)


def _executable(name: str, env: Mapping[str, str]) -> str:
    """The file to execute for argv[0], searched in the command's own PATH (as subprocess does)."""
    if "/" in name:
        return name
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise FileNotFoundError(2, "No such file or directory", name)
    return found


async def _spawned(
    argv: Sequence[str], env: Mapping[str, str], label: str, stdin: bytes | None, timeout: float
) -> Outcome:
    """posix_spawn, then the command's exit, or after `timeout` its group killed and the command reaped. On
    cancellation the group is killed and reaped before CancelledError goes on. The common case (the command
    exits in time) is one pidfd in the loop's reaper (banjail.actions.reaper); the kill paths are rare and watch
    the command on their own."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    out = os.memfd_create("banjail-stdout", os.MFD_CLOEXEC)
    err = os.memfd_create("banjail-stderr", os.MFD_CLOEXEC)
    feed = -1
    first: tuple[Any, ...]
    try:
        if stdin is not None:
            feed = os.memfd_create("banjail-stdin", os.MFD_CLOEXEC)
            os.write(feed, stdin)  # a memfd takes any size in one write
            os.lseek(feed, 0, os.SEEK_SET)
            first = (os.POSIX_SPAWN_DUP2, feed, 0)
        else:
            first = _DEVNULL_STDIN
        try:
            pid = os.posix_spawn(
                _executable(argv[0], env),
                argv if isinstance(argv, list) else list(argv),
                env,
                file_actions=[first, (os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)],
                setsid=True,
                # as subprocess's restore_signals: Python ignores SIGPIPE and SIGXFSZ, a shell must not inherit that
                setsigdef=_DEFAULT_SIGNALS,
                setsigmask=(),
            )
        except OSError as exc:
            return Outcome(label, 127, "", f"cannot run {argv[0]}: {exc}")
        if feed >= 0:
            os.close(feed)
            feed = -1
        # waited for inline, not in a coroutine of its own: this runs at every ban
        reaper = reaper_for(loop)
        pidfd, future = reaper.watch(loop, pid, timeout)
        try:
            exited = await future
        except asyncio.CancelledError:
            reaper.forget(pidfd, future)
            await asyncio.shield(_kill_watched(loop, pid))
            raise
        if exited:
            status: int | None = os.waitpid(pid, 0)[1]
        else:
            await _kill_watched(loop, pid)
            status = None
        seconds = loop.time() - started
        if status is None:
            return Outcome(label, None, "", "", seconds)
        return Outcome(label, os.waitstatus_to_exitcode(status), _tail(out), _tail(err), seconds)
    finally:
        os.close(out)
        os.close(err)
        if feed >= 0:
            os.close(feed)


_DEVNULL_STDIN = (
    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0) if hasattr(os, "POSIX_SPAWN_OPEN") else ()
)


async def _kill_watched(loop: asyncio.AbstractEventLoop, pid: int) -> None:
    """Kill the group of `pid` (not reaped yet) and reap it, watching its exit through a pidfd of its own."""
    pidfd = os.pidfd_open(pid)
    exited: asyncio.Future[None] = loop.create_future()

    def readable() -> None:  # the pidfd stays readable once the command exited
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(pidfd, readable)
    try:
        await _kill_spawned(pid, exited)
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


async def _kill_spawned(pid: int, exited: asyncio.Future[None]) -> None:
    """SIGTERM the command's group, SIGKILL it after a short grace, then reap the command itself."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(exited), _GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    # SIGKILL cannot be ignored: the command is gone (or a zombie) within moments.
    await asyncio.shield(exited)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _tail(fd: int) -> str:
    """The last 64 KiB a command wrote to the memfd `fd`, as text."""
    size = os.lseek(fd, 0, os.SEEK_END)  # as fstat's st_size, without building a stat result
    if not size:
        return ""  # most commands write nothing
    data = os.pread(fd, _OUTPUT_LIMIT, max(0, size - _OUTPUT_LIMIT))
    return data.decode("utf-8", "replace")


async def _asyncio_subprocess(
    argv: Sequence[str], env: Mapping[str, str], label: str, stdin: bytes | None, timeout: float
) -> Outcome:
    """The path for kernels without pidfds: asyncio's subprocess with three pipes."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            start_new_session=True,
        )
    except OSError as exc:
        return Outcome(label, 127, "", f"cannot run {argv[0]}: {exc}")
    communicate = asyncio.ensure_future(process.communicate(stdin))
    try:
        stdout, stderr = await asyncio.wait_for(asyncio.shield(communicate), timeout)
    except TimeoutError:
        await _kill_group(process)
        # The group is dead; a daemonised grandchild may still hold the pipes: do not wait for it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), _GRACE)
        communicate.cancel()
        return Outcome(label, None, "", "", loop.time() - started)
    except asyncio.CancelledError:
        await _kill_group(process)
        communicate.cancel()
        raise
    return Outcome(
        label,
        process.returncode,
        stdout[-_OUTPUT_LIMIT:].decode("utf-8", "replace"),
        stderr[-_OUTPUT_LIMIT:].decode("utf-8", "replace"),
        loop.time() - started,
    )


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the command's process group, then SIGKILL it after a short grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), _GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
