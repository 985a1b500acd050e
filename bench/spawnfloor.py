"""The process floor: the CPU a server's own process spends starting N action commands and reaping them.

Usage: spawnfloor.py N

Starts `/bin/sh -c 'echo ... >> FILE'` N times, one after the other, through asyncio (as banjail's command actions
do, with the loop reaping children through pidfds), and prints {"commands": N, "cpu_s": parent CPU seconds}. The
children's own CPU is not counted, as the daemon bench does not count it. Any daemon that runs a command per ban
spends at least this much of its own CPU on N bans.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile

from banjail.cli.server import reap_children_in_loop


async def _spawn(n: int, path: str) -> None:
    for i in range(n):
        process = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", f"echo 192.0.2.{i % 250} $(date +%s.%N) >> {path}", stdin=asyncio.subprocess.DEVNULL
        )
        await process.wait()


def main(argv: list[str]) -> int:
    n = int(argv[0])
    reap_children_in_loop()  # as the daemon reaps its action commands
    with tempfile.TemporaryDirectory(prefix="spawnfloor-") as tmp:
        before = resource.getrusage(resource.RUSAGE_SELF)
        asyncio.run(_spawn(n, os.path.join(tmp, "bans")))
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"commands": n, "cpu_s": round(cpu, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
