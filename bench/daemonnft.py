"""The daemon benchmark's firewall row: the same bulk append as the daemon section, each server banning with
nftables inside a network namespace the bench creates (`ip netns add`) and deletes; the host's firewall is
never touched.

  upstream   upstream's fail2ban-server with upstream's own action.d/nftables.conf (read from the copy of
             /etc/fail2ban the daemon section makes at run time): one `nft add element` process per ban
  banjail    banjail's fail2ban-server with banjail's native nftables action (its stock action.d/nftables.conf,
             `native = nftables`, placed into the same copied tree as `banjail-nftables.conf`): bans that arrive
             together go into the set in one `nft -f -` transaction

Both use upstream's sshd filter and the same jail. For each server: a warm-up burst (its address in the set
proves the pipeline), then the bulk append of N generated lines; the phase ends when the server has used
(almost) no CPU for SETTLE_S seconds (bounded); server CPU is utime+stime of the server process (the nft
processes it starts excluded, as in the daemon section), bans are the elements in the jail's set at the end.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from daemon import (
    BULK_TIMEOUT_S,
    REPO,
    SERVERS,
    SETTLE_S,
    Progress,
    Running,
    append,
    burst,
    cpu_of,
    generate,
    write_config,
)
from firewall import Namespace
from floors import measure
from section import Section, Table

NAME = "daemon-nft"
TARGET_CPU_RATIO = 50.0  # issue 13
BANJAIL_ACTION = REPO / "src" / "banjail" / "stock" / "action.d" / "nftables.conf"
SETS = {"upstream": "f2b-table", "banjail": "banjail"}  # the table; both name their sets addr-set-/addr6-set-bench
SET4, SET6 = "addr-set-bench", "addr6-set-bench"
COLUMNS = ("server", "bulk s", "server CPU s", "CPU vs upstream", "nft CPU s", "bans", "targets met")
LABELS = {
    "upstream": "upstream, action.d/nftables.conf",
    "banjail": "banjail, native nftables",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options of its own: it uses the daemon section's --daemon-lines and --daemons."""


def _bench(label: str, lines: int, progress: Progress) -> dict[str, Any]:
    server = SERVERS[label]
    missing = server.available()
    if missing:
        return {"server": label, "error": missing}
    table = SETS[label]
    ns = Namespace()
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-daemon-nft-{label}-") as tmp:
            work = Path(tmp)
            if label == "banjail":
                conf = write_config(work, action="banjail-nftables[name=bench]")
                shutil.copyfile(BANJAIL_ACTION, conf / "action.d" / "banjail-nftables.conf")
            else:
                conf = write_config(work, action="nftables[name=bench]")
            run = Running(server, work, conf, ns.prefix)
            try:
                return _phases(run, ns, table, lines, progress)
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
                progress(f"{label} nft: failed: {exc}")
                return {"server": label, "error": str(exc)[:300]}
            finally:
                run.stop()
    finally:
        ns.delete()


def _banned(ns: Namespace, table: str) -> int:
    """Addresses in the jail's IPv4 and IPv6 sets."""
    return ns.set_size(table, SET4) + ns.set_size(table, SET6)


def _phases(run: Running, ns: Namespace, table: str, lines: int, progress: Progress) -> dict[str, Any]:
    label = run.server.label
    run.wait_ready("bench")
    log = run.work / "auth.log"
    append(log, burst("198.18.255.1", time.time(), 9000))
    _, _, size = ns.wait_size(table, SET4, 1, time.perf_counter(), 30.0)
    if size < 1:
        raise RuntimeError(f"warm-up burst not in {table}/{SET4} within 30 s: {run.tail()}")
    text = generate(lines)
    progress(f"{label} nft: ready (pid {run.pid}), appending {lines:,} lines")
    cpu0 = cpu_of(run.pid)
    t0 = append(log, text)
    last_active, prev_cpu, prev_t = time.time(), cpu0.own, time.time()
    timed_out, polls, size = False, 0, 0
    while True:
        time.sleep(0.1)
        now, cpu = time.time(), cpu_of(run.pid).own
        polls += 1
        grew = False
        if polls % 10 == 0:  # listing the set costs nft's CPU, not the server's: once a second
            seen = _banned(ns, table)
            grew, size = seen != size, seen
        if grew or cpu - prev_cpu >= 0.05 * (now - prev_t):  # busy: a twentieth of a core or more
            last_active = now
        prev_cpu, prev_t = cpu, now
        if now - last_active >= SETTLE_S:
            break
        if now - t0 >= BULK_TIMEOUT_S:
            timed_out = True
            break
    cpu1 = cpu_of(run.pid)
    bans = _banned(ns, table) - 1  # minus the warm-up burst
    figures = {"server": label, "error": "", "bulk_s": round(last_active - t0, 3),
               "bulk_cpu_s": round(cpu1.own - cpu0.own, 3), "nft_cpu_s": round(cpu1.children - cpu0.children, 3),
               "bans": bans, "bulk_timed_out": timed_out}  # fmt: skip
    progress(f"{label} nft: {bans} bans in {figures['bulk_s']:.1f} s, {figures['bulk_cpu_s']:.2f} server CPU s")
    return figures


def run(args: argparse.Namespace, progress: Progress) -> Section:
    """Run upstream's and banjail's server in turn, each in a namespace of its own."""
    lines = min(args.daemon_lines, 50_000) if args.quick else args.daemon_lines
    labels = [d for d in args.daemons.split(",") if d in SETS]
    results = [_bench(label, lines, progress) for label in labels]
    upstream = next((r for r in results if r["server"] == "upstream" and not r["error"]), None)
    rows: list[tuple[str, ...]] = []
    for r in results:
        if r["error"]:
            rows.append((LABELS[r["server"]], "failed", "", "", "", "", r["error"][:200]))
            continue
        ratio = upstream["bulk_cpu_s"] / r["bulk_cpu_s"] if upstream and r is not upstream and r["bulk_cpu_s"] else 0.0
        r["cpu_ratio"] = round(ratio, 1)
        met = "(reference)" if r is upstream else f"cpu:{'yes' if ratio >= TARGET_CPU_RATIO else 'no'}"
        rows.append((LABELS[r["server"]], f"{r['bulk_s']:.2f}" + (" (timeout)" if r["bulk_timed_out"] else ""),
                     f"{r['bulk_cpu_s']:.2f}", f"{ratio:.1f}x" if ratio else "", f"{r['nft_cpu_s']:.2f}",
                     str(r["bans"]), met))  # fmt: skip
    # The native action runs no command per ban: what no daemon can go below is matching the bulk.
    floors = measure(generate(lines), 1, progress)
    for key, what in (("regex_s", "floor (re)"), ("native_s", "floor (native engine)")):
        if floors is not None and key in floors:
            best = upstream["bulk_cpu_s"] / floors[key] if upstream and floors[key] else 0.0
            rows.append((what, "", f"{floors[key]:.2f}", f"{best:.1f}x" if best else "", "", "", ""))
    notes = [
        f"target: >= {TARGET_CPU_RATIO:.0f}x less server CPU than upstream, each with its nftables action",
        f"bulk: the daemon section's {lines:,}-line append; each server in its own `ip netns add` namespace "
        "(deleted afterwards); the phase ends after "
        f"{SETTLE_S:.0f} s with the server under 5 % of a core; `nft CPU s`: the nft processes the server "
        "started (its reaped children), not counted in the server's figure",
        "bans: elements of the jail's IPv4 and IPv6 sets at the end, the warm-up burst's address excluded",
        "floor (re) / floor (native engine): the regex calls alone on the same bulk (refloor.py --first; the "
        "native engine's C part, nativefloor.py), as in the daemon section; their ratio is the most any "
        "daemon matching with that engine can gain over upstream here",
    ]
    return Section(
        name=NAME,
        title=f"daemon with nftables: fail2ban-server on a {lines:,}-line append, banning in a namespace",
        tables=(Table("Server side by side, nftables actions", COLUMNS, tuple(rows)),),
        notes=tuple(notes),
        figures={"lines": lines, "servers": results, "floor": floors},
    )
