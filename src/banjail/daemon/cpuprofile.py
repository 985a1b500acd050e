"""Opt-in CPU profile of the whole server process, for finding where a flood's CPU goes (off by default).

With `BANJAIL_PROFILE=FILE` in its environment, fail2ban-server runs cProfile in every thread (the loop, the scan
threads, the store executor), each timed by its own thread CPU clock (time.thread_time), so a thread waiting on a
lock, a child's exec or the GIL counts nothing; at exit the threads' figures are summed into one pstats FILE
(`python -m pstats FILE`). The profiler itself costs several times the work it measures, so read the figures as
proportions and call counts, not as the server's speed.
"""

from __future__ import annotations

import atexit
import cProfile
import os
import pstats
import sys
import threading
import time
from typing import Any

ENV = "BANJAIL_PROFILE"


def start_from_env() -> bool:
    """Start profiling when BANJAIL_PROFILE names a file (True), else do nothing (False)."""
    path = os.environ.get(ENV, "")
    if not path:
        return False
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def begin() -> cProfile.Profile:
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()
        return profile

    def first_call(*_: Any) -> None:
        # threading calls this once in each new thread, before its run(): swap in a profiler of its own
        sys.setprofile(None)
        begin()

    def dump() -> None:
        with lock:
            taken = list(profiles)
        for profile in taken:
            profile.disable()
        stats = pstats.Stats(taken[0])
        for profile in taken[1:]:
            stats.add(profile)
        stats.dump_stats(path)

    threading.setprofile(first_call)
    begin()
    atexit.register(dump)
    return True
