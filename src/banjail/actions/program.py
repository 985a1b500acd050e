"""Running one program by argv (never through a shell) with text on its stdin, for banjail's native actions.

The argv goes behind the Runner's prefix (e.g. `ip netns exec NS`) and gets the Runner's extra environment, so
native actions run wherever command actions run. A timeout kills the program's whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence

from banjail.actions.runner import Outcome, Runner

_GRACE = 0.5  # seconds between SIGTERM and SIGKILL of a timed-out process group
_OUTPUT_LIMIT = 64 * 1024  # bytes of stdout/stderr kept for messages


async def run_program(
    runner: Runner, argv: Sequence[str], stdin: bytes = b"", timeout: float = 60.0
) -> Outcome:
    """Run `argv` behind `runner.prefix`, feeding `stdin`; never raises for a failing program.

    The Outcome's `script` is the argv joined by spaces (for messages); returncode None means it timed out and
    its process group was killed; 127 means it could not be started.
    """
    full = (*runner.prefix, *argv)
    label = " ".join(argv)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        process = await asyncio.create_subprocess_exec(
            *full,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **runner.env},
            start_new_session=True,
        )
    except OSError as exc:
        return Outcome(label, 127, "", f"cannot run {full[0]}: {exc}")
    communicate = asyncio.ensure_future(process.communicate(stdin))
    try:
        stdout, stderr = await asyncio.wait_for(asyncio.shield(communicate), timeout)
    except TimeoutError:
        await _kill_group(process)
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
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), _GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    # The group is dead; a daemonised grandchild may still hold the pipes: do not wait for it longer.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), _GRACE)
