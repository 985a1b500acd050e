"""The action path in-process: the server CPU per ban from a jail's queue to its recording command action's
command, through the daemon's own layers, next to the Runner floor.

Usage: actionpath.py N [--per-job K] [--floor] [--above]

Builds the daemon bench's recording action (`actionban = echo <ip> $(date +%s.%N) >> FILE`, bench/daemon.py
write_config) as the daemon does (load_action, build_action), a jail holding it, the jail's Lanes with a RunLog
(its commits go nowhere: the store's CPU is not the action path's) and completion marks in a temporary directory
(the recording action is a side action: it takes marks, as in the daemon). Queues N bans as ban jobs of K bans
(default 8: the bulk's bans come by batch), waits until every lane is idle and the last round is committed, and
prints {"bans": N, "cpu_s": process CPU, "ms_per_ban": ...}; with --floor, also the same N commands through the
Runner alone (spawnfloor.py's measure) as "floor_s"; with --above, also the path once more with a Runner that
starts nothing (it yields to the loop once and answers exit 0, as a command that did its work), as
"above_us_per_ban": the CPU of every layer above the Runner, free of the spawn's noise. The children's own CPU
is not counted, as the daemon bench does not count it. Logging is at INFO, as the bench's server (its loglevel).
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
from dataclasses import dataclass, field
from pathlib import Path

from banjail.actions.registry import build_action
from banjail.actions.render import Script
from banjail.actions.runner import Outcome, Runner
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


@dataclass(frozen=True)
class _Answering(Runner):
    """A Runner that starts nothing: it keeps the scripts it was given (so the count of bans can be checked) and
    answers exit 0 after one turn of the loop, as a command's exit takes one."""

    seen: list[str] = field(default_factory=list)

    async def run(self, script: Script, timeout: float) -> Outcome:
        await asyncio.sleep(0)
        self.seen.append(script.text)
        return Outcome(script.text, 0)


def _jail(work: Path, runner: Runner | None = None) -> Jail:
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
    jail.actions = {spec.name: build_action(spec, jail="bench", runner=runner)}
    return jail


async def _path(n: int, per_job: int, work: Path, runner: Runner | None = None) -> float:
    jail = _jail(work, runner)
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
    answered = runner.seen if isinstance(runner, _Answering) else None
    written = (work / "bans").read_text().count("\n") if answered is None else len(answered)
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
    parser.add_argument("--above", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    reap_children_in_loop()
    with tempfile.TemporaryDirectory(prefix="actionpath-") as tmp:
        cpu = asyncio.run(_path(args.n, args.per_job, Path(tmp)))
        result = {"bans": args.n, "cpu_s": round(cpu, 3), "ms_per_ban": round(1000 * cpu / args.n, 4)}
        if args.floor:
            floor = asyncio.run(_floor(args.n, Path(tmp)))
            result |= {"floor_s": round(floor, 3), "floor_ms": round(1000 * floor / args.n, 4)}
        if args.above:
            work = Path(tmp) / "above"
            work.mkdir()
            above = asyncio.run(_path(args.n, args.per_job, work, _Answering()))
            result["above_us_per_ban"] = round(1e6 * above / args.n, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
