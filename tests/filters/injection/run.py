"""Run generated cases through a filter and judge them: a victim hit is a failure of an attacked case whose id
or ip holds a victim's spelling (VICTIM_MARKS) or is a host name (the client chose it); a missed control is a
control case, under an option set it must fail under, without a failure of the attacker."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .generate import Case
from .spec import VICTIM_MARKS

NOW = 1795651200.0  # 2026-11-25T12:00:00Z, the sample logs' "now"
# (lines in order) -> for each line, the (id, ip) of the failures it completed
Engine = Callable[[Sequence[str]], list[list[tuple[str, str]]]]


@dataclass(frozen=True)
class Verdict:
    options: dict[str, str]
    cases: int
    hits: tuple[tuple[Case, str], ...]  # (case, the victim id it gave)
    missed: tuple[Case, ...]  # controls without the attacker's failure


def _canon(text: str) -> str:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ip)


def is_victim(ident: str) -> bool:
    """A victim's address in any spelling, or any host name: in a generated line a name can only come from the
    client (its text or its own PTR zone), and a resolver turns it into whatever address that zone says."""
    try:
        ipaddress.ip_address(ident)
    except ValueError:
        return True
    return any(mark in _canon(ident) for mark in VICTIM_MARKS)


def judge(cases: Sequence[Case], per_line: Sequence[list[tuple[str, str]]], options: dict[str, str]) -> Verdict:
    hits: list[tuple[Case, str]] = []
    missed: list[Case] = []
    at = 0
    for case in cases:
        found = [ident for line in per_line[at:at + len(case.lines)] for pair in line for ident in pair if ident]
        at += len(case.lines)
        if case.control:
            if options in case.fails_under and _canon(case.attacker) not in {_canon(i) for i in found}:
                missed.append(case)
        else:
            hits.extend((case, ident) for ident in found if is_victim(ident))
    return Verdict(options, len(cases), tuple(hits), tuple(missed))


def engine_api(name: str, options: dict[str, str], config_dir: str) -> Engine:
    """banjail's Matcher over filter NAME as banjail finds it from `config_dir` (an empty directory: the stock
    tree; a directory whose filter.d holds other filters, e.g. upstream's: those)."""
    from banjail.config.load import load_filter
    from banjail.filter.datedetect import DateDetector
    from banjail.filter.matcher import Matcher

    spec = load_filter(name, config_dir=config_dir, args=options or None, jail_options={"usedns": "raw"})

    def run(lines: Sequence[str]) -> list[list[tuple[str, str]]]:
        matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone),
                          check_all=False)
        out = []
        for n, line in enumerate(lines, 1):
            failures = matcher.process(line, NOW, n).failures
            out.append([(f.fid, dict(f.groups).get("ip4") or dict(f.groups).get("ip6") or "") for f in failures])
        return out

    return run


def fail2ban_regex(command: str, target: str, workdir: Path, extra: Sequence[str] = ()) -> Engine:
    """The installed `fail2ban-regex --json` over a file of the lines (TARGET: "sshd[mode=ddos]" or a path;
    `extra`: more arguments, e.g. ["-c", CONFIG_DIR])."""

    def run(lines: Sequence[str]) -> list[list[tuple[str, str]]]:
        log = workdir / "generated.log"
        with open(log, "w", encoding="utf-8", newline="") as out:
            for line in lines:
                out.write(line + "\n")
        proc = subprocess.run([command, *extra, "--json", "-r", "--now", str(int(NOW)), str(log), target],
                              capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"fail2ban-regex {target}: exit {proc.returncode}: {proc.stderr[-2000:]}")
        out_lines: list[list[tuple[str, str]]] = [[] for _ in lines]
        for row in proc.stdout.split("\n"):  # never splitlines(): U+2028 and friends sit raw inside JSON strings
            if row.startswith("{"):
                item = json.loads(row)
                out_lines[item["line"] - 1].append((str(item["id"]), str(item.get("ip") or "")))
        return out_lines

    return run


def run_cases(cases: Iterable[Case], engine: Engine, options: dict[str, str]) -> Verdict:
    listed = list(cases)
    lines = [line for case in listed for line in case.lines]
    return judge(listed, engine(lines), options)


def uncovered_failregexes(
    name: str, options: dict[str, str], config_dir: str, cases: Iterable[Case]
) -> list[str]:
    """The failregexes of filter NAME (with `options`) that no control line of `cases` matches: shapes the
    service spec has no template for, so the generator never attacks them."""
    from banjail.config.load import load_filter
    from banjail.filter.datedetect import DateDetector
    from banjail.filter.matcher import Matcher

    spec = load_filter(name, config_dir=config_dir, args=options or None, jail_options={"usedns": "raw"})
    matcher = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone), check_all=True)
    hit: set[int] = set()
    n = 0
    for case in cases:
        if case.control:
            for line in case.lines:
                n += 1
                hit.update(matcher.process(line, NOW, n).failregex)
    return [spec.failregex[i] for i in range(len(spec.failregex)) if i not in hit]
