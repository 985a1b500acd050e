"""``make bench``: run banjail's benchmarks side by side with upstream fail2ban and write the report.

Each section is a module with ``NAME``, ``add_arguments(parser)`` and ``run(args, progress) -> Section``; this file
only parses options, runs the chosen sections in order, prints each table, and saves ``bench/out/<name>.md`` and
``bench/out/<name>.json`` plus ``bench/out/report.md`` with every section of this invocation.
Sections: core (fail2ban-regex), daemon (fail2ban-server: bulk CPU, ban latency, idle, RSS; it brings
daemon-nft: the same bulk banning with nftables in a namespace, upstream's action against banjail's), firewall (nftables
bans/s and restore), fleet (bans through a Redis stream to 3 namespaced hosts; run it alone with
``--only fleet``), filters (worst time per line of every stock filter on pathological input).
"""

from __future__ import annotations

import argparse
import compileall
import sys
import time
from pathlib import Path
from types import ModuleType

import core
import daemon
import daemonnft
import firewall
import fleet
import pathological
from section import markdown, save

SECTIONS: dict[str, ModuleType] = {
    core.NAME: core,
    daemon.NAME: daemon,
    daemonnft.NAME: daemonnft,
    firewall.NAME: firewall,
    fleet.NAME: fleet,
    pathological.NAME: pathological,
}
QUICK_LINES = 100_000
# `--only daemon` also runs the daemon's nftables rows (issue 13 asks for them in the daemon bench).
ALSO = {daemon.NAME: (daemonnft.NAME,)}


def _progress(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="banjail benchmarks against upstream fail2ban")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run, from: {', '.join(SECTIONS)}")
    parser.add_argument("--lines", type=int, default=1_000_000, help="log lines per generated file")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: --lines {QUICK_LINES}")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "out")
    for module in SECTIONS.values():
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.lines = QUICK_LINES
    names = [n for n in args.only.split(",") if n]
    names += [extra for n in list(names) for extra in ALSO.get(n, ()) if extra not in names]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    t0 = time.perf_counter()
    _compile_sources()
    reports: list[str] = []
    for name in names:
        print(f"bench: {name}", file=sys.stderr, flush=True)
        section = SECTIONS[name].run(args, _progress)
        md, js = save(section, args.out_dir)
        text = markdown(section)
        reports.append(text)
        print(text)
        print(f"(written to {md} and {js})\n")
    (args.out_dir / "report.md").write_text("\n".join(reports), encoding="utf-8")
    print(f"bench: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


def _compile_sources() -> None:
    """Writes the bytecode of banjail's sources before any run. The bench runs the venv's editable install,
    whose modules are compiled at their first import, and not at all where PYTHONDONTWRITEBYTECODE is set (as
    in this project's sessions): each run would then compile some 70 modules, about 60 ms of fail2ban-regex's
    start. An installed banjail (tools/install: pip install .) has its bytecode written at install, as
    Debian's fail2ban has, so both sides start from bytecode."""
    src = Path(__file__).resolve().parent.parent / "src" / "banjail"
    if not compileall.compile_dir(str(src), quiet=1):
        print(f"bench: some of {src} did not compile to bytecode", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
