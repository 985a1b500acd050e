"""The firewall benchmark: bans applied to nftables per second, and the restore of many bans at start.

Everything runs inside a network namespace the bench creates (`ip netns add`) and deletes at the end; the host's
firewall is never touched. Rows:

  upstream daemon      upstream's fail2ban-server with its action.d/nftables.conf (one `nft` process per ban),
                       `fail2ban-client set bench banip IP...` with N addresses: time until all N are in the set
  banjail daemon       banjail's fail2ban-server with its stock nftables action (native, batched): the same
                       `banip` sent through banjail's control client in-process: time until all N are in the set
  banjail commands     banjail's server running upstream's nftables.conf as commands (what a copied
                       /etc/fail2ban does)
  banjail action       banjail's NftablesAction driven directly: `ban()` of N bans, then of R restored bans
  actions.benchmark    the actions' own measure (`python -m banjail.actions.benchmark --json`): native ban(),
                       native restore, and upstream's nftables.conf run by banjail's CommandAction, ban by ban
  restore              the daemons stopped (actionstop empties the firewall; banjail's persistent set is flushed
                       as a reboot would) and started again with their database: time from the process start
                       until every ban is back in the set

"In the set" is checked by listing the set (`nft -j list set`), polled; the poll's own duration bounds the
resolution, which the notes state. Listing is no probe for banjail's restore: nft 1.0 fetches every element of
every set for any listing (0.75 s of CPU with 100k elements, on a 2-core machine), so polling would slow down the
very restore it times. banjail's restore is instead timed by the `nft` its action runs: the action's `nftables`
option points at a recorder that runs the real nft and appends its exit status and end time to a file. The
restore is complete at the end of the last successful nft run before a listing shows every ban in the set (one
listing, after the nft runs stopped); the recorder's own cost (a shell and `date`) only adds to the time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon import SERVERS, Running, write_config
from section import Section, Table

NAME = "firewall"
TARGET_BANS_PER_S = 100_000
TARGET_RESTORE_S = 2.0
BAN_TIMEOUT_S = 150.0
BANIP_CHUNK = 10_000
QUIET_S = 0.5  # no nft run for this long: the restore may be over, list the set
REPO = Path(__file__).resolve().parents[1]
ROWS = ("upstream", "banjail", "action", "hook", "commands")
Progress = Callable[[str], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("firewall")
    group.add_argument("--fw-bans", type=int, default=10_000, help="addresses banned at once")
    group.add_argument("--fw-restore", type=int, default=100_000, help="bans restored at start")
    group.add_argument("--fw-command-bans", type=int, default=1_000,
                       help="bans for the rows that run one nft process per ban (upstream, commands)")
    group.add_argument("--fw-rows", default="upstream,banjail,action,hook",
                       help=f"rows to run, from: {', '.join(ROWS)} (commands: banjail's daemon running upstream's "
                       "nftables.conf)")


def addresses(n: int, first_octet: int = 10) -> list[str]:
    """n distinct IPv4 addresses first_octet.x.y.z, z never 0 or 255."""
    return [f"{first_octet}.{(i // 254) >> 8}.{(i // 254) & 255}.{1 + i % 254}" for i in range(n)]


class Namespace:
    """A network namespace of our own; `prefix` runs a command inside it. delete() is idempotent."""

    def __init__(self) -> None:
        self.name = f"bjbench-{os.getpid()}"
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True, text=True)
        self.prefix = ["ip", "netns", "exec", self.name]

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)

    def set_size(self, table: str, name: str) -> int:
        """Elements in `inet table name`; 0 when the set does not exist."""
        out = subprocess.run([*self.prefix, "nft", "-j", "list", "set", "inet", table, name], capture_output=True,
                             text=True, check=False)  # fmt: skip
        if out.returncode != 0:
            return 0
        for item in json.loads(out.stdout).get("nftables", []):
            if "set" in item:
                return len(item["set"].get("elem", []))
        return 0

    def wait_size(self, table: str, name: str, n: int, since: float, timeout: float) -> tuple[float, float, int]:
        """Poll until the set holds n elements. Returns (seconds from `since` to the first poll that saw any
        element, seconds to the first poll that saw all n (or to the last growth if that never came), the size
        last seen). Polls get sparser as the wait grows (1/50 of the time so far, 20-500 ms), so a slow run is
        not slowed further by listing its set."""
        size, first, last_growth = 0, 0.0, time.perf_counter()
        while True:
            seen = self.set_size(table, name)
            now = time.perf_counter()
            if seen != size:
                size, last_growth = seen, now
                first = first or now
            if size >= n or now - since >= timeout:
                return (first or now) - since, last_growth - since, size
            time.sleep(min(0.5, max(0.02, (now - since) / 50)))


@dataclass(frozen=True)
class Row:
    """One measured operation: what, how many bans, seconds, bans in the set at the end, or an error."""

    what: str
    bans: int
    seconds: float
    in_set: int
    error: str = ""
    target: str = ""  # "rate" or "restore": which target applies
    first: float = 0.0  # seconds until the first element was seen in the set (0: not measured)
    reply: float = 0.0  # seconds until the banip request returned (0: not measured)

    @property
    def rate(self) -> float:
        return self.in_set / self.seconds if self.seconds > 0 and not self.error else 0.0


def _daemon_rows(kind: str, ns: Namespace, bans: int, restore: int, progress: Progress) -> list[Row]:
    """Ban `bans` addresses through one server, then (for restore > 0) `restore` addresses in all, stop it, and
    time the restore at the next start. kind: upstream | banjail | commands."""
    server = SERVERS["upstream" if kind == "upstream" else "banjail"]
    native = kind == "banjail"
    table, set_name = ("banjail", "addr-set-bench") if native else ("f2b-table", "addr-set-bench")
    label = {"upstream": "upstream daemon, action.d/nftables.conf (commands)",
             "banjail": "banjail daemon, native nftables (batched)",
             "commands": "banjail daemon, upstream's nftables.conf (commands)"}[kind]  # fmt: skip
    missing = server.available()
    if missing:
        return [Row(label, bans, 0.0, 0, missing)]
    if kind != "upstream":
        # An installed banjail has its bytecode compiled (as Debian's fail2ban has); a source tree run with
        # PYTHONDONTWRITEBYTECODE would compile every module at each start, which no real start-up pays.
        subprocess.run([str(REPO / ".venv/bin/python"), "-m", "compileall", "-q", str(REPO / "src" / "banjail")],
                       check=False, capture_output=True, timeout=120)  # fmt: skip
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-fw-{kind}-") as tmp:
        work = Path(tmp)
        recorder = _nft_recorder(work) if native else None
        action = f"nftables[name=bench, nftables={recorder}]" if recorder else "nftables[name=bench]"
        conf = write_config(work, action=action, upstream_tree=not native)
        try:
            run = Running(server, work, conf, ns.prefix)
        except OSError as exc:
            return [Row(label, bans, 0.0, 0, f"cannot start the server: {exc}")]
        try:
            run.wait_ready("bench")
            ips = addresses(bans)
            t0 = time.perf_counter()
            _banip(run, ips, native)
            reply = time.perf_counter() - t0
            first, seconds, size = ns.wait_size(table, set_name, bans, t0, BAN_TIMEOUT_S)
            rows.append(Row(f"{label}: banip", bans, seconds, size, _short(size, bans), "rate", first, reply))
            progress(f"{label}: {size} bans in {seconds:.2f} s")
            if restore:
                more = addresses(restore, 11)[: max(0, restore - bans)]
                if more:
                    _banip(run, more, native)
                    ns.wait_size(table, set_name, bans + len(more), time.perf_counter(), BAN_TIMEOUT_S)
                total = bans + len(more)
                run.stop()
                if ns.set_size(table, set_name):
                    # A persistent action leaves its bans in the kernel across a stop; empty the firewall as a
                    # reboot would, so the restore from the store is what gets measured.
                    subprocess.run([*ns.prefix, "nft", "flush", "ruleset"], check=True, timeout=60)
                if recorder is not None:
                    recorder.with_suffix(".log").unlink(missing_ok=True)
                    started = time.time()
                    run = Running(server, work, conf, ns.prefix)
                    first, seconds, size = 0.0, *_wait_recorded(ns, recorder, table, set_name, total, started)
                else:
                    t0 = time.perf_counter()
                    run = Running(server, work, conf, ns.prefix)
                    first, seconds, size = ns.wait_size(table, set_name, total, t0, BAN_TIMEOUT_S)
                rows.append(Row(f"{label}: restore at start", total, seconds, size, _short(size, total), "restore",
                                first))  # fmt: skip
                progress(f"{label}: restored {size} bans in {seconds:.2f} s")
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
            rows.append(Row(label, bans, 0.0, 0, str(exc)[:300]))
            progress(f"{label}: failed: {exc}")
        finally:
            run.stop()
    return rows


def _nft_recorder(work: Path) -> Path:
    """A program the native action runs as its `nft`: runs the real nft, then appends `STATUS END-EPOCH` to
    <recorder>.log (see the module doc)."""
    path = work / "nft-recorder"
    log = path.with_suffix(".log")
    path.write_text(f'#!/bin/sh\nnft "$@"\nrc=$?\necho "$rc $(date +%s.%N)" >> {log}\nexit $rc\n')
    path.chmod(0o755)
    return path


def _recorded(recorder: Path) -> list[tuple[int, float]]:
    """(exit status, end epoch) of every nft run recorded so far; a line being written is skipped."""
    try:
        text = recorder.with_suffix(".log").read_text()
    except FileNotFoundError:
        return []
    found = []
    for line in text.splitlines():
        status, _, end = line.partition(" ")
        if status.isdigit() and end.count(".") == 1 and len(end) > 15:
            found.append((int(status), float(end)))
    return found


def _wait_recorded(ns: Namespace, recorder: Path, table: str, set_name: str, n: int,
                   started: float) -> tuple[float, int]:  # fmt: skip
    """Seconds from `started` (epoch) to the end of the last successful nft run before a listing saw all n
    elements, and the size that listing saw. The set is listed only once the recorded runs have been quiet for
    QUIET_S (a listing costs as much as the restore), and again after any later run, until BAN_TIMEOUT_S."""
    size, last = 0, 0.0
    while time.time() - started < BAN_TIMEOUT_S:
        runs = _recorded(recorder)
        if not runs or time.time() - runs[-1][1] < QUIET_S:
            time.sleep(0.02)
            continue
        if runs[-1][1] == last:  # nothing new since the last listing
            time.sleep(0.1)
            continue
        last = runs[-1][1]
        size = ns.set_size(table, set_name)
        # Read again: a run that ended while the set was being listed may have added what the listing saw.
        ok = [end for status, end in _recorded(recorder) if status == 0]
        if ok and size >= n:
            return ok[-1] - started, size
    return time.time() - started, size


def _banip(run: Running, ips: list[str], native: bool) -> None:
    """`set bench banip IP...` in requests of BANIP_CHUNK addresses (banjail refuses requests over 1 MiB; a
    command line stays well below ARG_MAX): banjail's through its client library, upstream's by its CLI."""
    for begin in range(0, len(ips), BANIP_CHUNK):
        part = ips[begin : begin + BANIP_CHUNK]
        if native:
            from banjail.control.client import request

            request(run.sock, ["set", "bench", "banip", *part], timeout=120)
            continue
        out = run.client("set", "bench", "banip", *part, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"banip failed: {(out.stderr or out.stdout).strip()[-300:]}")


def _short(size: int, n: int) -> str:
    return "" if size >= n else f"only {size} of {n} in the set"


def _action_rows(ns: Namespace, bans: int, restore: int) -> list[Row]:
    """banjail's NftablesAction driven directly: one ban() of `bans` new bans, one of `restore` restored bans."""
    try:
        from banjail.actions.nftables import NftablesAction
        from banjail.actions.runner import Runner
        from banjail.config.schema import ActionSpec
        from banjail.model import Ban
    except ImportError as exc:
        return [Row("banjail action (direct)", bans, 0.0, 0, f"native nftables action not available: {exc}")]

    async def go() -> list[Row]:
        spec = ActionSpec(name="nftables", file="bench", options={"name": "direct"})
        action = NftablesAction(spec, jail="direct", runner=Runner(prefix=tuple(ns.prefix)))
        now = time.time()
        table, set4 = action.layout.table, action.layout.set4
        rows = []
        await action.start()
        for what, n, restored, target in (("ban()", bans, False, "rate"), ("ban() of restored bans", restore,
                                                                              True, "restore")):  # fmt: skip
            await action.flush()
            batch = [Ban("direct", ip, ip, now, now + 86400, 1, 3, restored=restored) for ip in addresses(n, 12)]
            t0 = time.perf_counter()
            await action.ban(batch)
            seconds = time.perf_counter() - t0
            size = ns.set_size(table, set4)
            rows.append(Row(f"banjail action (direct): {what}", n, seconds, size, _short(size, n), target))
        await action.stop()
        return rows

    try:
        return asyncio.run(go())
    except Exception as exc:  # any failure of the component goes into the table
        return [Row("banjail action (direct)", bans, 0.0, 0, f"{type(exc).__name__}: {exc}"[:300])]


def _hook_rows(bans: int, restore: int, slow: int) -> list[Row]:
    """The actions helper's own measure, `python -m banjail.actions.benchmark --json` (its own namespace): the
    native action's bans/s, its restore (start + one ban() of restored bans), and upstream's nftables.conf run
    one ban at a time by banjail's CommandAction."""
    label = "banjail actions.benchmark"
    argv = [str(REPO / ".venv/bin/python"), "-m", "banjail.actions.benchmark", "--bans", str(bans),
            "--restore", str(restore), "--upstream", str(slow), "--json"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return [Row(label, bans, 0.0, 0, str(exc)[:300])]
    if done.returncode != 0:
        return [Row(label, bans, 0.0, 0, (done.stderr.strip().splitlines() or ["exit status"])[-1][:300])]
    f = json.loads(done.stdout)
    rows = [
        Row(f"{label}: native ban()", f["native_bans"], f["native_seconds"], f["native_bans"], "", "rate"),
        Row(f"{label}: native restore (start + ban())", f["restore_bans"], f["restore_seconds"], f["restore_bans"],
            "", "restore"),
    ]  # fmt: skip
    if f["upstream_bans"] > 1 and f["upstream_seconds"]:
        n = f["upstream_bans"] - 1  # its first ban (with actionstart) is not timed
        rows.append(Row(f"{label}: upstream's nftables.conf as commands", n, f["upstream_seconds"], n))
    return rows


def run(args: argparse.Namespace, progress: Progress) -> Section:
    """Create the namespace, run the chosen rows, delete the namespace."""
    bans = min(args.fw_bans, 2_000) if args.quick else args.fw_bans
    restore = min(args.fw_restore, 10_000) if args.quick else args.fw_restore
    # One process per ban: tens of ms each on a busy machine; the rate, not the count, is the figure.
    slow = min(args.fw_command_bans, 300) if args.quick else args.fw_command_bans
    wanted = [r for r in args.fw_rows.split(",") if r]
    if os.geteuid() != 0:
        return _section([Row("all", bans, 0.0, 0, "needs root (network namespaces and nftables)")], bans, restore)
    rows: list[Row] = []
    try:
        ns = Namespace()
    except (OSError, subprocess.CalledProcessError) as exc:
        why = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) and exc.stderr else str(exc)
        return _section([Row("all", bans, 0.0, 0, f"cannot create a network namespace: {why}")], bans, restore)
    try:
        for kind in wanted:
            if kind == "action":
                rows += _action_rows(ns, bans, restore)
                progress("banjail action (direct): done")
            elif kind == "hook":
                rows += _hook_rows(bans, restore, slow)
                progress("banjail actions.benchmark: done")
            elif kind in ("upstream", "banjail", "commands"):
                # The command rows restore only what they banned (one process per ban again).
                n = bans if kind == "banjail" else slow
                rows += _daemon_rows(kind, ns, n, restore if kind == "banjail" else slow, progress)
            else:
                raise SystemExit(f"bench firewall: unknown row {kind!r}; known: {', '.join(ROWS)}")
    finally:
        ns.delete()
    return _section(rows, bans, restore)


def _section(rows: list[Row], bans: int, restore: int) -> Section:
    cells: list[tuple[str, ...]] = []
    figures: list[dict[str, Any]] = []
    reference = next((r.rate for r in rows if r.what.startswith("upstream") and r.target == "rate"), 0.0)
    for r in rows:
        met = ""
        if not r.error and r.target == "rate":
            met = "yes" if r.rate >= TARGET_BANS_PER_S else "no"
        elif not r.error and r.target == "restore":
            met = ("yes" if r.seconds <= TARGET_RESTORE_S else "no") if r.bans >= restore else "(n/a: fewer bans)"
        if r.what.startswith("upstream"):
            met = "(reference)"
        ratio = r.rate / reference if reference and r.target == "rate" and r.rate else 0.0
        cells.append((r.what, f"{r.bans:,}", f"{r.reply:.3f}" if r.reply else "", f"{r.first:.3f}" if r.first else "",
                      f"{r.seconds:.3f}" if r.seconds else "", f"{r.in_set:,}", f"{r.rate:,.0f}" if r.rate else "",
                      f"{ratio:,.0f}x" if ratio else "", r.error or met))  # fmt: skip
        figures.append({"what": r.what, "bans": r.bans, "reply_s": round(r.reply, 4), "first_s": round(r.first, 4),
                        "seconds": round(r.seconds, 4), "in_set": r.in_set, "bans_per_s": round(r.rate),
                        "vs_upstream": round(ratio, 1), "error": r.error})  # fmt: skip
    notes = (
        f"targets: >= {TARGET_BANS_PER_S:,} bans/s batched (upstream: about 450/s, one process per ban); "
        f"restore of {restore:,} bans <= {TARGET_RESTORE_S:.0f} s",
        "daemon rows: time from the banip request (or the server's process start, for restore) until a poll of "
        "`nft -j list set` saw the first / every address; polls are 20-500 ms apart (1/50 of the wait so far) "
        "and listing a 100k set takes a few hundred ms, which bounds the resolution of the fast rows; "
        "`banip reply s` is when the server answered the request",
        "direct action rows: NftablesAction.ban() awaited in the bench's own event loop (nft behind "
        "`ip netns exec`), the set listed afterwards to check every address is in it",
        "rows that run one nft process per ban (upstream, commands) ban fewer addresses (--fw-command-bans) and "
        "restore only what they banned; their rate is the figure. "
        "`stop` runs actionstop, which deletes the sets, so the restore starts from an empty firewall",
        "banjail daemon rows send banip through banjail.control.client in-process (no client start-up); "
        "upstream's through /usr/bin/fail2ban-client",
        "banjail's restore row: timed by a recorder run as the action's nft (end of the last successful nft "
        "before one listing saw every ban), not by polling: listing a 100k set costs 0.75 s of CPU; "
        "banjail's bytecode is compiled before its rows, as in an installed package",
        "all inside a network namespace created for the run and deleted after it",
        "load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) +
        f" on {os.cpu_count()} CPUs: nft processes and transactions compete with the machine's other work",
    )
    return Section(
        name=NAME,
        title=f"firewall: {bans:,} bans into nftables, restore of {restore:,} bans",
        tables=(Table("Bans applied", ("operation", "bans", "banip reply s", "first in set s", "all in set s",
                                       "in the set", "bans/s", "vs upstream", "target met"), tuple(cells)),),
        notes=notes,
        figures={"bans": bans, "restore": restore, "rows": figures},
    )

