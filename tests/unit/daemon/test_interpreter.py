"""banjail.daemon.interpreter.cap_arenas: glibc's malloc arenas of a process whose threads allocate at once,
counted by glibc's own malloc_stats (one "Arena N:" block per arena), in a fresh interpreter each time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from banjail.daemon import interpreter

pytestmark = pytest.mark.skipif(
    not hasattr(os, "confstr") or os.confstr("CS_GNU_LIBC_VERSION") is None, reason="glibc's malloc only"
)

# four threads allocating at the same time (each would take an arena of its own), then glibc's report
PROGRAM = """
import ctypes, sys, threading
from banjail.daemon import interpreter
print(interpreter.cap_arenas() if sys.argv[1] == "cap" else None, flush=True)
both = threading.Barrier(4)
def work():
    both.wait()
    kept = [bytearray(100_000) for _ in range(20)]
    both.wait()
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()
"""


def _arenas(mode: str, env: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, timeout=60, check=True,
        env={k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env,
    )  # fmt: skip
    return done.stdout.strip(), sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.parametrize(
    ("mode", "env", "said", "arenas"),
    [
        ("none", {}, "None", 5),  # the main arena and one per thread: what the cap removes
        ("cap", {}, "True", interpreter.MALLOC_ARENAS),
        ("cap", {"MALLOC_ARENA_MAX": "3"}, "False", 3),  # the administrator's setting is kept
    ],
)
def test_cap_arenas(mode: str, env: dict[str, str], said: str, arenas: int) -> None:
    assert _arenas(mode, env) == (said, arenas)
