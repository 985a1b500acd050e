"""How the server sets up CPython for a daemon whose loop must answer while scan threads match a flood.

- GIL switch interval SWITCH_SECONDS (CPython's default is 5 ms): the loop gives the GIL up at every socket, file
  or store wait and must get it back from a busy scan thread (banjail.daemon.scanning); each wait cost it up to
  one interval, several per `status` request.
- Cyclic collector thresholds GC_THRESHOLDS (default 700, 10, 10): a flood fills the failure counter with up to
  100k fids per jail (core.counter.MAX_FIDS) and churns them; with the defaults a full collection walked that heap
  every ~2 s for nothing (bench/stall/flood.py: 42 full runs of 0.03-0.13 s in 25 s, 0-16 objects freed each),
  holding the loop and a tenth of the CPU. The daemon's objects hold no cycles to speak of (refcounting frees
  them), so young collections stay frequent enough and full ones are made rare.
- BANJAIL_PROFILE=FILE (off unless set): a CPU profile of every thread, written at exit (banjail.daemon.cpuprofile).
"""

from __future__ import annotations

import gc
import sys

from banjail.daemon import cpuprofile

SWITCH_SECONDS = 0.001
GC_THRESHOLDS = (5_000, 10, 100)


def tune() -> None:
    """Set the switch interval and the collector thresholds for the server process (once, before the loop)."""
    sys.setswitchinterval(SWITCH_SECONDS)
    gc.set_threshold(*GC_THRESHOLDS)
    cpuprofile.start_from_env()  # BANJAIL_PROFILE=FILE only
