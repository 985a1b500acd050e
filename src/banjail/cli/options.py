"""fail2ban-regex's command line: upstream's options (same names and meanings) plus banjail's --json and --now."""

from __future__ import annotations

import argparse
import locale
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from banjail import FAIL2BAN_COMPAT_VERSION
from banjail.cli.invert import usage_problem
from banjail.errors import BanjailError


@dataclass(frozen=True, slots=True)
class Options:
    """The parsed command line."""

    log: str
    regex: str
    ignoreregex: str | None = None
    config: str = "/etc/fail2ban"
    datepattern: str | None = None
    timezone: str | None = None
    encoding: str = "UTF-8"
    raw: bool = False
    usedns: str | None = None
    maxlines: int = 0
    journalmatch: str | None = None
    log_level: str = "critical"
    verbose: int = 0
    no_check_all: bool = False
    out: str | None = None
    json: bool = False
    invert: bool = False
    now: float | None = None
    print_no_missed: bool = False
    print_no_ignored: bool = False
    print_all_matched: bool = False
    print_all_missed: bool = False
    print_all_ignored: bool = False

    @property
    def quiet(self) -> bool:
        """No report: failures are printed one by one instead (-o or --json)."""
        return self.json or self.out is not None


class UsageError(BanjailError):
    """The command line is wrong; the message says how."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter at the terminal's width, found as shutil.get_terminal_size finds it: argparse makes a
    formatter for every add_argument and imports shutil (and with it bz2 and lzma) to size it, milliseconds of
    every fail2ban-regex run, which prints no help."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


def _columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        usage="%(prog)s [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]",
        description=(
            "Test a fail2ban filter or regex against a log, offline.\n\n"
            "LOG          a log file, a log line itself (when no such file exists), or systemd-journal[...]\n"
            "REGEX        a failregex, a filter name with options (sshd[mode=aggressive]) or a filter file\n"
            "IGNOREREGEX  an ignoreregex"
        ),
        formatter_class=_Formatter,
    )
    p.add_argument("args", nargs="*", metavar="LOG REGEX [IGNOREREGEX]", help=argparse.SUPPRESS)
    p.add_argument("--version", action="version", version=f"fail2ban-regex {FAIL2BAN_COMPAT_VERSION}")
    p.add_argument("-V", action="store_true", dest="short_version", help="print the version number only")
    p.add_argument("-c", "--config", default="/etc/fail2ban", help="configuration directory (/etc/fail2ban)")
    p.add_argument("-d", "--datepattern", help="date pattern to find the time in each line")
    p.add_argument("--timezone", "--TZ", dest="timezone", help="time zone of times written without one")
    p.add_argument("-e", "--encoding", default=_preferred_encoding(), help="log encoding (system locale)")
    p.add_argument("-r", "--raw", action="store_true", help="take host names as they are, never resolve them")
    p.add_argument(
        "--usedns",
        help="what <HOST> accepts: yes/warn (names too, resolved to their addresses), no (addresses only), "
        "raw (names too, kept as written, never resolved)",
    )
    p.add_argument("-L", "--maxlines", type=int, default=0, help="lines a multi-line regex may span")
    p.add_argument("-m", "--journalmatch", help="journal matches (systemd-journal only)")
    p.add_argument("-l", "--log-level", dest="log_level", default="critical", help="level of log messages")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more detail (repeatable)")
    p.add_argument("--verbosity", type=int, dest="verbosity", help="verbosity as a number (0..4)")
    p.add_argument("--verbose-date", "--VD", action="store_true", help="accepted for compatibility")
    p.add_argument(
        "-D", "--debuggex", action="store_true", help="accepted for compatibility (needs a network)"
    )
    p.add_argument(
        "--no-check-all", action="store_true", help="stop at the first failregex that finds a failure"
    )
    p.add_argument(
        "-o", "--out", help="print only this of each failure: id, ip, msg, row, a group, or <tags>"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print each failure as one JSON object per line: line, id, ip, time, groups (users: a list), "
        "matches. A <HOST> that is a name: with --usedns raw (or -r) id is the name as written and ip null; "
        "with yes/warn one failure per address the name resolves to (id and ip that address; none when it does "
        "not resolve); with no a name does not match",
    )
    p.add_argument(
        "-i",
        "--invert",
        action="store_true",
        help="with -o msg, -o TEMPLATE (<msg>, <time>) or --json: print the lines no failure came from instead "
        "(upstream 1.1); a line's time is its date, else the --now value or the current time",
    )
    p.add_argument(
        "--now",
        type=float,
        help="evaluate dates as if the time now were this epoch; with -o/--json a failure on a line without a "
        "date (journal-format lines) has this time, or the current time without --now",
    )
    p.add_argument("--print-no-missed", action="store_true", help="do not print missed lines")
    p.add_argument("--print-no-ignored", action="store_true", help="do not print ignored lines")
    p.add_argument("--print-all-matched", action="store_true", help="print every matched line")
    p.add_argument("--print-all-missed", action="store_true", help="print every missed line")
    p.add_argument("--print-all-ignored", action="store_true", help="print every ignored line")
    p.add_argument("-t", "--log-traceback", action="store_true", help="accepted for compatibility")
    p.add_argument("--full-traceback", action="store_true", help="accepted for compatibility")
    return p


def _preferred_encoding() -> str:
    encoding = locale.getpreferredencoding(False)
    return "UTF-8" if encoding.startswith("ANSI_") else encoding


def parse_args(argv: Sequence[str], prog: str = "fail2ban-regex") -> Options:
    """Options from a command line (without the program name). Raises UsageError; exits for -h/--version/-V."""
    ns = parser(prog).parse_args(list(argv))
    if ns.short_version:
        print(FAIL2BAN_COMPAT_VERSION)
        raise SystemExit(0)
    problems = []
    if ns.print_no_missed and ns.print_all_missed:
        problems.append("--print-no-missed and --print-all-missed are mutually exclusive.")
    if ns.print_no_ignored and ns.print_all_ignored:
        problems.append("--print-no-ignored and --print-all-ignored are mutually exclusive.")
    if ns.json and ns.out is not None:
        problems.append("--json and -o/--out are mutually exclusive.")
    if ns.invert and (problem := usage_problem(ns.out, ns.json)) is not None:
        problems.append(problem)
    if len(ns.args) not in (2, 3):
        problems.append("provide both <LOG> and <REGEX>.")
    if problems:
        raise UsageError("\n".join("ERROR: " + p for p in problems))
    return Options(
        log=ns.args[0],
        regex=ns.args[1],
        ignoreregex=ns.args[2] if len(ns.args) == 3 else None,
        config=ns.config,
        datepattern=ns.datepattern,
        timezone=ns.timezone,
        encoding=ns.encoding,
        raw=ns.raw,
        usedns=ns.usedns,
        maxlines=ns.maxlines,
        journalmatch=ns.journalmatch,
        log_level=ns.log_level,
        verbose=ns.verbosity if ns.verbosity is not None else ns.verbose,
        no_check_all=ns.no_check_all,
        out=ns.out,
        json=ns.json,
        invert=ns.invert,
        now=ns.now,
        print_no_missed=ns.print_no_missed,
        print_no_ignored=ns.print_no_ignored,
        print_all_matched=ns.print_all_matched,
        print_all_missed=ns.print_all_missed,
        print_all_ignored=ns.print_all_ignored,
    )
