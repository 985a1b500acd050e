"""How the server sets up CPython for a daemon whose loop must answer while scan threads match a flood.

- GIL switch interval SWITCH_SECONDS (CPython's default is 5 ms): the loop gives the GIL up at every socket, file
  or store wait and must get it back from a busy scan thread (banjail.daemon.scanning); each wait cost it up to
  one interval, several per `status` request.
- Cyclic collector thresholds GC_THRESHOLDS (default 700, 10, 10): a flood fills the failure counter with up to
  100k fids per jail (core.counter.MAX_FIDS) and churns them; with the defaults a full collection walked that heap
  every ~2 s for nothing (bench/stall/flood.py: 42 full runs of 0.03-0.13 s in 25 s, 0-16 objects freed each),
  holding the loop and a tenth of the CPU. The daemon's objects hold no cycles to speak of (refcounting frees
  them), so young collections stay frequent enough and full ones are made rare.
- glibc's malloc arenas capped at MALLOC_ARENAS: it gives each thread that allocates at the same time as another
  an arena of its own (up to 8 per core), and the memory freed in one stays with it. The scan and store threads
  allocate the chunks, their lines and the commits; with the cap the daemon bench's server ends its 200k-line
  bulk at 40.0 MB instead of 41.0-41.1 MB (VmHWM, two runs each). The threads take turns on the GIL, so sharing
  an arena costs no waiting to speak of: eight alternating runs with and without the cap showed no CPU
  difference beyond the machine's noise. A MALLOC_ARENA_MAX in the environment (glibc reads it itself) is kept.
- BANJAIL_PROFILE=FILE (off unless set): a CPU profile of every thread, written at exit (banjail.daemon.cpuprofile).
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

from banjail.daemon import cpuprofile

SWITCH_SECONDS = 0.001
GC_THRESHOLDS = (5_000, 10, 100)
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def tune() -> None:
    """Set the switch interval, the collector thresholds and the malloc arenas for the server process (once,
    before the loop)."""
    sys.setswitchinterval(SWITCH_SECONDS)
    gc.set_threshold(*GC_THRESHOLDS)
    cap_arenas()
    cpuprofile.start_from_env()  # BANJAIL_PROFILE=FILE only


def cap_arenas() -> bool:
    """Cap glibc's malloc arenas at MALLOC_ARENAS; False where it does not apply (another C library, or the
    environment sets MALLOC_ARENA_MAX)."""
    if "MALLOC_ARENA_MAX" in os.environ or not _glibc():
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, MALLOC_ARENAS))
    except (AttributeError, OSError):
        return False


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (OSError, ValueError):
        return False
