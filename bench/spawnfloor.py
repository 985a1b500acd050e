"""The process floor: the CPU a server's own process spends starting N action commands and reaping them.

Usage: spawnfloor.py N [--way runner|asyncio]

Starts `/bin/sh -c 'echo ... >> FILE'` N times, one after the other, and prints {"commands": N, "cpu_s": parent
CPU seconds, "way": ...}. `runner` (the default) goes through banjail's own Runner, as the daemon's command
actions do (posix_spawn, pidfd reaping, output captured); `asyncio` through asyncio.create_subprocess_exec with
stdout and stderr piped and read by communicate(), the loop reaping children through pidfds (the way banjail's
Runner started commands before). The children's own CPU is not counted, as the daemon bench does not count it. Any daemon that runs a
command per ban spends at least this much of its own CPU on N bans.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile

from banjail.actions.render import Script
from banjail.actions.runner import Runner
from banjail.cli.server import reap_children_in_loop


def _command(i: int, path: str) -> str:
    return f"echo 192.0.2.{i % 250} $(date +%s.%N) >> {path}"


async def _asyncio(n: int, path: str) -> None:
    # As banjail's Runner did before it used posix_spawn: stdin /dev/null, stdout and stderr through pipes
    # read by communicate(), so the output can be logged.
    pipe = asyncio.subprocess.PIPE
    for i in range(n):
        process = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", _command(i, path), stdin=asyncio.subprocess.DEVNULL, stdout=pipe, stderr=pipe,
            start_new_session=True,
        )  # fmt: skip
        await process.communicate()


async def _runner(n: int, path: str) -> None:
    runner = Runner()
    for i in range(n):
        outcome = await runner.run(Script(_command(i, path), {}), 60.0)
        if not outcome.ok:
            raise SystemExit(f"spawnfloor: {outcome.describe()}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="spawnfloor.py")
    parser.add_argument("n", type=int)
    parser.add_argument("--way", choices=("runner", "asyncio"), default="runner")
    args = parser.parse_args(argv)
    reap_children_in_loop()  # as the daemon reaps its action commands
    spawn = _runner if args.way == "runner" else _asyncio
    with tempfile.TemporaryDirectory(prefix="spawnfloor-") as tmp:
        before = resource.getrusage(resource.RUSAGE_SELF)
        asyncio.run(spawn(args.n, os.path.join(tmp, "bans")))
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"commands": args.n, "cpu_s": round(cpu, 3), "way": args.way}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
