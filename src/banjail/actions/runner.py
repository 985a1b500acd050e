"""Running one action command: `/bin/sh -c SCRIPT` as an asyncio subprocess in its own session, with a
timeout that kills the whole process group, optionally behind an argv prefix (e.g. `ip netns exec NS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Runner:
    """Runs scripts. prefix: argv placed before the shell (["ip", "netns", "exec", "NS"]); env: extra
    variables for every command (a test's PATH, for instance)."""

    prefix: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    async def run(self, script: Script, timeout: float) -> Outcome:
        """Run `script`; never raises for a failing command (see Outcome), only for an unusable shell."""
        if not script.text.strip():
            return Outcome(script.text, 0)
        return await run_process(
            (*self.prefix, SHELL, "-c", script.text),
            env={**os.environ, **self.env, **script.env},
            label=script.text,
            stdin=None,
            timeout=timeout,
        )


async def run_process(
    argv: Sequence[str], *, env: Mapping[str, str], label: str, stdin: bytes | None, timeout: float
) -> Outcome:
    """Run argv in its own session (stdin: bytes fed to it, or None for /dev/null); never raises for a failing
    program. On timeout or cancellation the whole process group is killed; 127 means it could not start."""
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
