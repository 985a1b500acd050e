"""The core benchmark: upstream's fail2ban-regex against banjail's on a generated auth.log with the sshd filter.

For each timestamp format (one generated file each) and each filter mode it runs:
  upstream   /usr/bin/fail2ban-regex -o row LOG /etc/fail2ban/filter.d/sshd.conf[mode=M]   (speed and failures)
  banjail    .venv/bin/fail2ban-regex with the same upstream filter file: once in report mode (speed, RSS) and
             once with --json (failures), on the engine it chooses (the native one when built)
  banjail python   the same with BANJAIL_ENGINE=python (the reference engine)
  stock      the same with banjail's own stock sshd filter (-c pointing at an empty dir)
and compares the failures by (id, time). banjail gets ``--now`` = the bench's start so both tools infer the same
year; the log ends a minute before it, so upstream (which reads the real clock) sees no future dates.
Peak RSS of banjail's report runs is also taken on the log's first quarter, to show it does not grow with input.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import failures
from failures import Comparison
from gen_authlog import FORMATS, LogSpec, write_authlog
from measure import Measurement, measure
from section import Section, Table

NAME = "core"
REPO = Path(__file__).resolve().parents[1]
UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(REPO / ".venv/bin/fail2ban-regex")
UPSTREAM_FILTER = "/etc/fail2ban/filter.d/sshd.conf"
WEB_FILTER = "/etc/fail2ban/filter.d/apache-auth.conf"
ACCESS_FILTER = "/etc/fail2ban/filter.d/nginx-botsearch.conf"
# the web rows: (format shown, gen_weblog.py --kind, upstream filter)
WEB_LOGS = (("apache", "error", WEB_FILTER), ("access", "access", ACCESS_FILTER))
STOCK_FILTER = REPO / "src/banjail/stock/filter.d/sshd.conf"
MODES = ("normal", "aggressive")
FLOOR = "re floor"
NATIVE_FLOOR = "native floor"
PYTHON_VARIANT = "banjail python"
TARGET_LINES_PER_S = 1_000_000
TARGET_RSS_MB = 60.0
Progress = Callable[[str], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("core")
    group.add_argument("--formats", default=",".join(FORMATS), help="timestamp formats, comma-separated")
    group.add_argument("--modes", default=",".join(MODES), help="sshd filter modes, comma-separated")
    group.add_argument("--seed", type=int, default=1, help="generator seed")
    group.add_argument("--no-web", dest="web", action="store_false",
                       help="skip the web rows (Apache error log, nginx access log); --formats '' runs only them")  # fmt: skip
    group.add_argument("--keep-outputs", action="store_true", help="keep the tools' outputs under bench/out/core/")


@dataclass(frozen=True)
class Row:
    """One tool/variant on one (format, mode) log. failures is None when the tool produced none to compare."""

    tool: str  # "upstream", "banjail", "banjail stock"
    fmt: str
    mode: str
    lines: int
    speed: Measurement  # the run whose wall time and RSS are reported
    comparison: Comparison | None
    note: str = ""
    json_run: Measurement | None = None  # banjail's --json run, which gave the failures

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.speed.wall_s if self.speed.ok and self.speed.wall_s > 0 else 0.0


def _filter_arg(base: str, mode: str) -> str:
    return base if mode == "normal" else f"{base}[mode={mode}]"


def _prefix(src: Path, dst: Path, lines: int) -> None:
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(f, lines))


def _generate(work: Path, lines: int, seed: int, fmt: str, end: int) -> Path:
    path = work / f"authlog-{fmt}-{lines}.log"
    with open(path, "w", encoding="utf-8") as f:
        write_authlog(f, LogSpec(lines=lines, end=end, seed=seed, format=fmt))
    return path


def _banjail_argv(variant: str, empty: Path, now: int, log: Path, mode: str, json_out: bool,
                  base: str = UPSTREAM_FILTER) -> list[str]:  # fmt: skip
    argv = [BANJAIL, "--now", str(now)]
    if json_out:
        argv.append("--json")
    if variant == "banjail stock":
        return [*argv, "-c", str(empty), str(log), _filter_arg(Path(base).stem, mode)]
    return [*argv, str(log), _filter_arg(base, mode)]


def run(args: argparse.Namespace, progress: Progress) -> Section:
    """Generate the logs, run every row, and return the section (tables, notes, figures)."""
    lines: int = args.lines
    formats = [f for f in args.formats.split(",") if f]
    modes = [m for m in args.modes.split(",") if m]
    work: Path = args.out_dir / NAME
    work.mkdir(parents=True, exist_ok=True)
    empty = work / "empty-config"
    empty.mkdir(exist_ok=True)
    now = int(time.time())
    variants = ["banjail", PYTHON_VARIANT] + (["banjail stock"] if STOCK_FILTER.exists() else [])
    notes: list[str] = []
    if not STOCK_FILTER.exists():
        notes.append(f"banjail stock rows skipped: {STOCK_FILTER.relative_to(REPO)} does not exist yet")

    rows: list[Row] = []
    rss_rows: list[tuple[str, ...]] = []
    rss_figures: list[dict[str, Any]] = []
    for fmt in formats:
        t0 = time.perf_counter()
        log = _generate(work, lines, args.seed, fmt, now - 60)
        progress(f"generated {log.name} ({lines} lines) in {time.perf_counter() - t0:.1f} s")
        for mode in modes:
            out = work / f"upstream-{fmt}-{mode}.rows"
            m = measure([UPSTREAM, "-o", "row", str(log), _filter_arg(UPSTREAM_FILTER, mode)], out)
            progress(f"upstream {fmt} {mode}: {m.wall_s:.1f} s, {m.peak_rss_kb // 1024} MB, exit {m.returncode}")
            up_keys = list(failures.upstream_rows(out)) if m.ok else []
            rows.append(Row("upstream", fmt, mode, lines, m, None, "" if m.ok else m.error()))
            for variant in variants:
                rows.append(_banjail_row(variant, fmt, mode, lines, log, empty, now, work, up_keys if m.ok else None,
                                         progress))  # fmt: skip
            rows.append(_floor_row(fmt, mode, lines, log, now, work, progress))
            rows.append(_native_floor_row(fmt, mode, lines, log, now, work, progress))
            _cleanup(args, work.glob(f"*-{fmt}-{mode}.*"))
        if fmt == formats[0] and modes:
            small = lines // 4
            small_log = work / f"authlog-{fmt}-{small}.log"
            _prefix(log, small_log, small)
            for variant in variants:
                big = next(r for r in rows if (r.tool, r.fmt, r.mode) == (variant, fmt, modes[0]))
                big_kb = big.speed.peak_rss_kb if big.speed.ok else 0
                rss_rows.append(_rss_row(variant, fmt, modes[0], (small, small_log), (lines, big_kb), empty, now,
                                         work, rss_figures, progress))  # fmt: skip
            _cleanup(args, [small_log])
        _cleanup(args, [log])
    if args.web:
        rows += _web_rows(args, lines, work, empty, now, progress, notes)

    return _section(args, rows, rss_rows, rss_figures, notes, now)


def _web_rows(args: argparse.Namespace, lines: int, work: Path, empty: Path, now: int, progress: Progress,
              notes: list[str]) -> list[Row]:  # fmt: skip
    """The web rows (gen_weblog.py): upstream's apache-auth filter on a generated Apache error log, and upstream's
    nginx-botsearch filter on a generated combined access log; in both the date does not start the line. The
    engine line each banjail run printed (how many lines ran natively) goes to `notes`."""
    rows: list[Row] = []
    for fmt, kind, base in WEB_LOGS:
        log = work / f"web-{kind}-{lines}.log"
        gen = [str(REPO / ".venv/bin/python"), str(Path(__file__).with_name("gen_weblog.py")), "--kind", kind,
               "--lines", str(lines), "--seed", str(args.seed), "--end", str(now - 60), "--out", str(log)]  # fmt: skip
        subprocess.run(gen, check=True)
        out = work / f"upstream-{fmt}-normal.rows"
        m = measure([UPSTREAM, "-o", "row", str(log), base], out)
        progress(f"upstream {fmt}: {m.wall_s:.1f} s, {m.peak_rss_kb // 1024} MB, exit {m.returncode}")
        up_keys = list(failures.upstream_rows(out)) if m.ok else None
        rows.append(Row("upstream", fmt, "normal", lines, m, None, "" if m.ok else m.error()))
        for variant in ("banjail", PYTHON_VARIANT):
            row = _banjail_row(variant, fmt, "normal", lines, log, empty, now, work, up_keys, progress, base)
            rows.append(row)
            engine = [ln for ln in row.speed.stderr_tail.splitlines() if ln.startswith("engine: ")]
            notes += [f"{variant} {fmt} ({Path(base).stem}): {engine[-1]}"] if engine else []
        _cleanup(args, [log, *work.glob(f"*-{fmt}-normal.*")])
    return rows


def _cleanup(args: argparse.Namespace, paths: Iterable[Path]) -> None:
    """Delete generated logs and tool outputs unless --keep-outputs (they are large: tens of MB per run)."""
    if not args.keep_outputs:
        for p in list(paths):
            p.unlink(missing_ok=True)


def _banjail_row(variant: str, fmt: str, mode: str, lines: int, log: Path, empty: Path, now: int, work: Path,
                 up_keys: list[failures.Key] | None, progress: Progress,
                 base: str = UPSTREAM_FILTER) -> Row:  # fmt: skip
    tag = variant.replace(" ", "-")
    env = {"BANJAIL_ENGINE": "python"} if variant == PYTHON_VARIANT else None
    speed = measure(_banjail_argv(variant, empty, now, log, mode, False, base), work / f"{tag}-{fmt}-{mode}.report",
                    env)  # fmt: skip
    progress(f"{variant} {fmt} {mode}: {speed.wall_s:.1f} s, {speed.peak_rss_kb // 1024} MB, exit {speed.returncode}")
    if not speed.ok:
        return Row(variant, fmt, mode, lines, speed, None, speed.error())
    js = measure(_banjail_argv(variant, empty, now, log, mode, True, base), work / f"{tag}-{fmt}-{mode}.json", env)
    if not js.ok:
        return Row(variant, fmt, mode, lines, speed, None, f"--json: {js.error()}")
    if up_keys is None:
        return Row(variant, fmt, mode, lines, speed, None, "upstream failed: nothing to compare")
    comparison = failures.compare(up_keys, list(failures.banjail_json(js.stdout_path)))
    return Row(variant, fmt, mode, lines, speed, comparison, json_run=js)


def _floor_row(fmt: str, mode: str, lines: int, log: Path, now: int, work: Path, progress: Progress) -> Row:
    """The regex floor (refloor.py): upstream's filter regexes alone, as an exact engine on re must call them;
    its lines/s bounds what any such engine can reach on this log."""
    return _floor(FLOOR, "refloor.py", "regex_s", "regex calls only (refloor.py): an upper bound, not a tool",
                  fmt, mode, lines, log, now, work, progress)  # fmt: skip


def _native_floor_row(fmt: str, mode: str, lines: int, log: Path, now: int, work: Path, progress: Progress) -> Row:
    """The native engine's floor (nativefloor.py): only its C part (PCRE2-JIT prefilter, prefregex and
    failregexes on every line), on chunks prepared beforehand."""
    return _floor(NATIVE_FLOOR, "nativefloor.py", "native_s",
                  "C part of the native engine only (nativefloor.py): an upper bound, not a tool",
                  fmt, mode, lines, log, now, work, progress)  # fmt: skip


def _floor(name: str, script: str, key: str, note: str, fmt: str, mode: str, lines: int, log: Path, now: int,
           work: Path, progress: Progress) -> Row:  # fmt: skip
    """A floor row: `script` prints JSON whose `key` is the seconds its timed part took."""
    argv = [str(REPO / ".venv/bin/python"), str(Path(__file__).with_name(script)), str(log),
            _filter_arg(UPSTREAM_FILTER, mode), str(now)]  # fmt: skip
    out = work / f"{Path(script).stem}-{fmt}-{mode}.json"
    m = measure(argv, out)
    if not m.ok:
        return Row(name, fmt, mode, lines, m, None, m.error())
    seconds = float(json.loads(out.read_text(encoding="utf-8"))[key])
    progress(f"{name} {fmt} {mode}: {seconds:.2f} s")
    return Row(name, fmt, mode, lines, dataclasses.replace(m, wall_s=seconds, peak_rss_kb=0), None, note)


def _rss_row(variant: str, fmt: str, mode: str, small: tuple[int, Path], big: tuple[int, int], empty: Path,
             now: int, work: Path, figures: list[dict[str, Any]], progress: Progress) -> tuple[str, ...]:  # fmt: skip
    """Peak RSS on the small log, beside the big log's figure (taken from the speed row: same command)."""
    n1, log = small
    out = work / f"{variant.replace(' ', '-')}-rss-{n1}.report"
    env = {"BANJAIL_ENGINE": "python"} if variant == PYTHON_VARIANT else None
    m = measure(_banjail_argv(variant, empty, now, log, mode, False), out, env)
    out.unlink(missing_ok=True)
    progress(f"{variant} RSS at {n1} lines: {m.peak_rss_kb // 1024} MB, exit {m.returncode}")
    kb1 = m.peak_rss_kb if m.ok else 0
    n2, kb2 = big
    figures.append({"tool": variant, "format": fmt, "mode": mode, "rss_kb": {str(n1): kb1, str(n2): kb2}})
    growth = f"{(kb2 - kb1) / 1024:+.1f} MB" if kb1 and kb2 else "n/a"
    flat = "n/a" if not (kb1 and kb2) else "yes" if kb2 <= kb1 * 1.1 else "no"
    return (variant, fmt, mode, _mb(kb1), _mb(kb2), growth, flat)


def _targets(r: Row) -> str:
    """Which of the issue's targets a banjail row meets: speed, identical failures, peak RSS."""
    speed = r.lines_per_s >= TARGET_LINES_PER_S
    same = r.comparison is not None and r.comparison.identical
    rss = r.speed.ok and r.speed.peak_rss_kb <= TARGET_RSS_MB * 1024
    return " ".join(f"{name}:{'yes' if ok else 'no'}" for name, ok in (("speed", speed), ("failures", same),
                                                                       ("rss", rss)))  # fmt: skip


def _mb(kb: int) -> str:
    return f"{kb / 1024:.1f}" if kb else "n/a"


def _section(args: argparse.Namespace, rows: list[Row], rss_rows: list[tuple[str, ...]],
             rss_figures: list[dict[str, Any]], notes: list[str], now: int) -> Section:  # fmt: skip
    upstream_speed = {(r.fmt, r.mode): r.lines_per_s for r in rows if r.tool == "upstream"}
    cells: list[tuple[str, ...]] = []
    figures: list[dict[str, Any]] = []
    for r in rows:
        base = upstream_speed.get((r.fmt, r.mode), 0.0)
        ratio = r.lines_per_s / base if base and r.lines_per_s else 0.0
        c = r.comparison
        same = "(reference)" if r.tool == "upstream" else (c.verdict() if c else f"n/a: {r.note}")
        if r.tool in (FLOOR, NATIVE_FLOOR):
            same = "n/a (regex calls only)"
        count = str(c.banjail) + ("" if c.banjail == c.upstream else f" (upstream {c.upstream})") if c else ""
        cells.append((
            r.tool, r.fmt, r.mode,
            f"{r.lines_per_s:,.0f}" if r.lines_per_s else "failed",
            f"{ratio:.1f}x" if ratio else "", f"{r.speed.wall_s:.2f}", _mb(r.speed.peak_rss_kb), count, same,
            "" if r.tool in ("upstream", FLOOR, NATIVE_FLOOR) else _targets(r),
        ))  # fmt: skip
        figures.append({
            "tool": r.tool, "format": r.fmt, "mode": r.mode, "lines": r.lines, "lines_per_s": round(r.lines_per_s),
            "ratio": round(ratio, 2), "wall_s": round(r.speed.wall_s, 3), "peak_rss_kb": r.speed.peak_rss_kb,
            "exit": r.speed.returncode, "argv": list(r.speed.argv), "note": r.note,
            "json_run": None if r.json_run is None else {
                "wall_s": round(r.json_run.wall_s, 3), "peak_rss_kb": r.json_run.peak_rss_kb,
                "argv": list(r.json_run.argv),
            },
            "failures": None if c is None else {
                "upstream": c.upstream, "banjail": c.banjail, "identical": c.identical, "same_set": c.same_set,
                "same_seconds": c.same_seconds, "missing": c.missing, "extra": c.extra,
                "only_upstream": [list(k) for k in c.only_upstream],
                "only_banjail": [{"line": n, "id": k[0], "time": k[1]} for n, k in c.only_banjail],
            },
        })  # fmt: skip
        if c and not c.same_set:
            shown = ", ".join(f"{i}@{t}" for i, t in c.only_upstream[:3])
            extra = ", ".join(f"line {n}: {i}@{t}" for n, (i, t) in c.only_banjail[:3])
            notes.append(f"{r.tool} {r.fmt} {r.mode}: only upstream e.g. [{shown}]; only banjail e.g. [{extra}]")
    notes += [
        f"targets: banjail >= {TARGET_LINES_PER_S:,} lines/s (about 25x upstream), identical failures (id, time), "
        f"peak RSS <= {TARGET_RSS_MB:.0f} MB and flat with input size",
        "upstream runs `fail2ban-regex -o row` (its failure printer; as fast as its report mode); banjail's speed "
        "and RSS come from its report mode, its failures from a second run with --json",
        "wall time includes interpreter start-up and config loading; lines/s = input lines / wall time",
        f"{FLOOR}: refloor.py times only the regex calls an exact engine on Python's re must make with upstream's "
        "filter (the prefregex on each line holding a required literal, then the failregexes that can start "
        "with its content's first character), on lines prepared beforehand; its lines/s is the ceiling for "
        "banjail on this log, and its ratio the most any exact engine on re can gain over upstream",
        f"{NATIVE_FLOOR}: nativefloor.py times only the C part of the native engine (PCRE2-JIT literal "
        "prefilter, prefregex and dispatched failregexes on every line, groups as dicts), on chunks whose dates "
        "were read beforehand; the native engine's remaining time is Python's (dates, sessions, identities)",
        f"{PYTHON_VARIANT}: BANJAIL_ENGINE=python, the reference engine, in the same run",
        f"log: gen_authlog.py seed {args.seed}, last line one minute before now={now}; banjail ran with --now {now}",
        f"web rows: gen_weblog.py seed {args.seed}, a day of lines ending one minute before now: format apache = an "
        "Apache 2.4 error log with upstream's apache-auth.conf, access = a combined access log (IPv4 and IPv6 "
        "clients) with upstream's nginx-botsearch.conf; the date follows a '[' or the client address",
    ]
    return Section(
        name=NAME,
        title=f"core: fail2ban-regex on a {args.lines:,}-line auth.log with the sshd filter",
        tables=(
            Table("Speed, memory and failures", ("tool", "format", "mode", "lines/s", "vs upstream", "wall s",
                                                 "peak RSS MB", "failures", "identical to upstream", "targets met"),
                  tuple(cells)),
            Table("Peak RSS against input size (banjail report mode)",
                  ("tool", "format", "mode", f"{args.lines // 4:,} lines MB", f"{args.lines:,} lines MB", "growth",
                   "flat (<= +10 %)"), tuple(rss_rows)),
        ),
        notes=tuple(notes),
        figures={"now": now, "lines": args.lines, "seed": args.seed, "rows": figures, "rss": rss_figures},
    )
