"""Running one program by argv (never through a shell) with text on its stdin, for banjail's native actions.

The argv goes behind the Runner's prefix (e.g. `ip netns exec NS`) and gets the Runner's extra environment, so
native actions run wherever command actions run. A timeout kills the program's whole process group.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from banjail.actions.runner import Outcome, Runner, run_process


async def run_program(
    runner: Runner, argv: Sequence[str], stdin: bytes = b"", timeout: float = 60.0
) -> Outcome:
    """Run `argv` behind `runner.prefix`, feeding `stdin`; never raises for a failing program.

    The Outcome's `script` is the argv joined by spaces (for messages); returncode None means it timed out and
    its process group was killed; 127 means it could not be started.
    """
    return await run_process(
        (*runner.prefix, *argv),
        env={**os.environ, **runner.env},
        label=" ".join(argv),
        stdin=stdin,
        timeout=timeout,
    )
