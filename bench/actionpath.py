"""The action path in-process: the server CPU per ban from a jail's queue to its recording command action's
command, through the daemon's own layers, next to the Runner floor.

Usage: actionpath.py N [--per-job K] [--floor]

Builds the daemon bench's recording action (`actionban = echo <ip> $(date +%s.%N) >> FILE`, bench/daemon.py
write_config) as the daemon does (load_action, build_action), a jail holding it, the jail's Lanes with a RunLog
(its commits go nowhere: the store's CPU is not the action path's) and completion marks in a temporary directory
(the recording action is a side action: it takes marks, as in the daemon). Queues N bans as ban jobs of K bans
(default 8: the bulk's bans come by batch), waits until every lane is idle and the last round is committed, and
prints {"bans": N, "cpu_s": process CPU, "ms_per_ban": ...}; with --floor, also the same N commands through the
Runner alone (spawnfloor.py's measure) as "floor_s". The children's own CPU is not counted, as the daemon bench
does not count it. Loop logging is at INFO, as the bench's server (its loglevel).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

from banjail.actions.registry import build_action
from banjail.actions.render import Script
from banjail.actions.runner import Runner
from banjail.cli.server import reap_children_in_loop
from banjail.config.load import load_action
from banjail.config.schema import FilterSpec, JailConfig
from banjail.daemon.completions import Completions
from banjail.daemon.jail import ActionJob, Jail, build_state
from banjail.daemon.lanes import Lanes, RunLog
from banjail.model import Ban
from banjail.store.checkpoint import Checkpoint


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _nowhere(checkpoint: Checkpoint) -> None:
    pass


def _jail(work: Path) -> Jail:
    conf = work / "conf"
    (conf / "action.d").mkdir(parents=True)
    (conf / "action.d" / "rec.conf").write_text(
        f"[Definition]\nactionban = echo <ip> $(date +%%s.%%N) >> {work}/bans\nactionunban = true\n"
    )
    spec = load_action("rec", config_dir=conf, jail="bench")
    config = JailConfig(
        name="bench",
        filter=FilterSpec(failregex=(r"^fail <HOST>$",), name="bench"),
        logpath=(str(work / "auth.log"),),
        maxretry=3,
        findtime=86400,
        bantime=86400,
        ignoreself=False,
    )
    jail = Jail(config=config, state=build_state(config, history=lambda fid, jail: None))
    jail.actions = {spec.name: build_action(spec, jail="bench")}
    return jail


async def _path(n: int, per_job: int, work: Path) -> float:
    jail = _jail(work)
    runs = RunLog(lambda: _nowhere)
    marks = Completions(work / "db.runs", runs.add)
    lanes = Lanes(jail, runs, marks)
    dispatch = asyncio.create_task(lanes.dispatch())
    now = time.time()
    bans = [
        Ban("bench", ip, ip, now, now + 86400, 1, 3)
        for ip in (f"198.18.{i >> 8}.{i & 255}" for i in range(n))
    ]
    before = _cpu()
    for start in range(0, n, per_job):
        jail.queue.put_nowait(
            ActionJob("ban", tuple(bans[start : start + per_job]), read_at=time.monotonic())
        )
        await asyncio.sleep(0)  # the bulk's batches come one after the other
    await jail.queue.join()
    await runs.close()
    cpu = _cpu() - before
    dispatch.cancel()
    await asyncio.gather(dispatch, return_exceptions=True)
    marks.close()
    written = (work / "bans").read_text().count("\n")
    if written != n:
        raise SystemExit(f"actionpath: {written} bans recorded, {n} expected")
    return cpu


async def _floor(n: int, work: Path) -> float:
    runner = Runner()
    path = work / "floor"
    before = _cpu()
    for i in range(n):
        outcome = await runner.run(
            Script(f"echo 198.18.{i >> 8}.{i & 255} $(date +%s.%N) >> {path}", {}), 60.0
        )
        if not outcome.ok:
            raise SystemExit(f"actionpath: {outcome.describe()}")
    return _cpu() - before


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="actionpath.py")
    parser.add_argument("n", type=int)
    parser.add_argument("--per-job", type=int, default=8)
    parser.add_argument("--floor", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    reap_children_in_loop()
    with tempfile.TemporaryDirectory(prefix="actionpath-") as tmp:
        cpu = asyncio.run(_path(args.n, args.per_job, Path(tmp)))
        result = {"bans": args.n, "cpu_s": round(cpu, 3), "ms_per_ban": round(1000 * cpu / args.n, 4)}
        if args.floor:
            floor = asyncio.run(_floor(args.n, Path(tmp)))
            result |= {"floor_s": round(floor, 3), "floor_ms": round(1000 * floor / args.n, 4)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
