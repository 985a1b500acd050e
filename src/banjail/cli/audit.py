"""`banjail audit FILTER` (also `fail2ban-regex --audit FILTER`): can a client aim this filter at an address of
its choosing? See banjail.audit.auditor for what is tried.

Exit status: 0 when nothing was found, 1 when a victim address could be captured, 255 for a usage or
configuration error (the message says which and how to fix it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import banjail
from banjail.audit.auditor import GENERATED, LOG, SAMPLE, Report, audit
from banjail.audit.payloads import VICTIMS
from banjail.cli.source import resolve_filter
from banjail.errors import BanjailError

ERROR_EXIT = 255
FOUND_EXIT = 1
# Sample logs looked for by filter name: banjail's own (in a source checkout) and upstream fail2ban's.
SAMPLE_DIRS = (
    Path(banjail.__file__).resolve().parents[2] / "tests" / "filters" / "samples",
    Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs"),
)

JSON_SHAPE = """\
--json prints one object:
  {"filter": NAME, "file": PATH, "failregex": [TEXT, ...],
   "lines": {"log": N, "sample": N, "generated": N},   lines the failregexes matched, by source
   "unaudited": [INDEX, ...],                          failregexes no line could be found or written for
   "fields": N, "cases": N, "victims": [ADDRESS, ...],
   "findings": [{"regex": INDEX, "failregex": TEXT,   the failregex (0-based) that captured the victim
                 "field_regex": INDEX, "field": TEXT, the free-text part the payload was written into
                 "field_text": TEXT, "family": TEXT, "victim": ADDRESS,
                 "counted": "failure" | "match",      a failure, or a helper/session match naming it
                 "line": TEXT,                        the shortest line that showed it
                 "source": "log" | "sample" | "generated"}, ...]}
                                                      a generated line has no date: fail2ban-regex -d '{NONE}'"""


class _UsageError(BanjailError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def parser(prog: str) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        usage="%(prog)s [-c CONFIG] [--log LOG] [--json] FILTER   (fail2ban-regex --audit [LOG] FILTER)",
        description=(
            "Try whether text a client writes into a log line can make FILTER capture an address of the "
            "client's choosing.\n\n"
            "FILTER  a filter name with options (sshd, sshd[mode=aggressive]), a filter file, or a failregex\n\n"
            "Lines: those of --log that the filter matches, else its sample lines when banjail knows them, and "
            "for\nevery failregex lines written from the regex itself. Each free-text part of each matched line "
            '(.*,\n\\S+, [^"]*, user and URL groups) gets payloads naming the victims 198.51.100.7, '
            "::ffff:198.51.100.7\nand 2001:db8:ffff::7 (shapes services write, mimicry of the line's own text, "
            "control characters).\n\n"
            "Exit status: 0 nothing found, 1 findings, 255 usage or configuration error.\n\n" + JSON_SHAPE
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("filter", metavar="FILTER")
    p.add_argument("-c", "--config", default="/etc/fail2ban", help="configuration directory (/etc/fail2ban)")
    p.add_argument("--log", help="a log file of the service: its matched lines are audited first")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object (shape above)")
    p.add_argument("--no-samples", action="store_true", help="do not use sample lines banjail knows")
    p.add_argument("--now", type=float, help="the time lines are read at (epoch; default: now)")
    return p


def _read_lines(path: str) -> list[str]:
    """The lines of a log file, split on "\\n" only (a raw \\r or U+2028 inside a field starts no line)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as e:
        raise BanjailError(
            f"cannot read log file {path}: {e.strerror or e}; give a readable file with --log"
        ) from None
    return data.decode("utf-8", errors="replace").split("\n")


def _samples(name: str) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for directory in SAMPLE_DIRS:
        for candidate in (directory / f"{name}.log", directory / name):
            if candidate.is_file():
                lines = [ln for ln in _read_lines(str(candidate)) if ln and not ln.startswith("#")]
                found.append((SAMPLE, lines))
                break
    return found


class _Progress:
    """Progress on stderr once the audit has run for 2 s, at most once a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, cases: int) -> None:
        now = time.monotonic()
        if now - self.started < 2.0 or (now - self.last < 1.0 and done < total):
            return
        self.last = now
        end = "\n" if done >= total or not self.stream.isatty() else "\r"
        self.stream.write(f"audit: field {done}/{total}, {cases} lines tried{end}")
        self.stream.flush()
        self.shown = True


def _counts(report: Report) -> dict[str, int]:
    counts = {LOG: 0, SAMPLE: 0, GENERATED: 0}
    for base in report.bases:
        counts[base.source] += 1
    return counts


def as_json(name: str, file: str, report: Report) -> dict[str, object]:
    return {
        "filter": name,
        "file": file,
        "failregex": list(report.failregex),
        "lines": _counts(report),
        "unaudited": list(report.unaudited),
        "fields": report.spans,
        "cases": report.cases,
        "victims": list(VICTIMS),
        "findings": [
            {
                "regex": f.regex,
                "failregex": f.failregex,
                "field_regex": f.span_regex,
                "field": f.part,
                "field_text": f.field,
                "family": f.family,
                "victim": f.victim,
                "counted": f.how,
                "line": f.line,
                "source": f.source,
            }
            for f in report.findings
        ],
    }


def as_text(name: str, file: str, report: Report) -> str:
    counts = _counts(report)
    out = [
        f"Audit of filter {name}" + (f" ({file})" if file else ""),
        f"  lines: {counts[LOG]} from the log, {counts[SAMPLE]} from samples, {counts[GENERATED]} written from "
        f"the regexes; {len(report.failregex) - len(report.unaudited)} of {len(report.failregex)} failregexes "
        "audited",
        f"  fields probed: {report.spans}; lines tried: {report.cases}; victims: {', '.join(VICTIMS)}",
    ]
    if report.unaudited:
        listed = ", ".join(str(i) for i in report.unaudited)
        out.append(f"  not audited (no line matches them; give one with --log): failregex {listed}")
    for number, f in enumerate(report.findings, 1):
        counted = "a failure" if f.how == "failure" else "a match that names the session's address"
        out += [
            "",
            f"FINDING {number}: failregex {f.regex} captures {f.victim} ({counted})",
            f"  failregex {f.regex}: {f.failregex}",
            f"  field: {f.part} of failregex {f.span_regex} (matched {f.field!r}), payload: {f.family}",
            f"  line: {f.line!r}" if not f.line.isprintable() else f"  line: {f.line}",
        ]
        if f.source == GENERATED:
            out.append("  (written without a date: try it with fail2ban-regex -d '{NONE}' LINE FILTER)")
    out.append("")
    if report.findings:
        out.append(f"{len(report.findings)} finding(s): a client can aim this filter at an address (exit 1).")
    else:
        out.append("No finding: no payload made this filter capture a victim address.")
    return "\n".join(out) + "\n"


def run(argv: Sequence[str], prog: str, stdout: TextIO, stderr: TextIO) -> int:
    """Parse, audit, print; returns the exit status. Raises BanjailError for the caller to report."""
    ns = parser(prog).parse_args(list(argv))
    resolved = resolve_filter(ns.filter, ns.config)
    if resolved.missing_filter:
        raise BanjailError(
            f"no filter {resolved.missing_filter!r} in {ns.config}/filter.d nor in banjail's stock filters; give "
            "a filter name, a filter file path or a failregex (quote it)"
        )
    if resolved.notice:
        stderr.write(f"banjail audit: {resolved.notice}\n")
    spec = resolved.spec
    name = os.path.splitext(os.path.basename(spec.file))[0] if spec.file else ns.filter
    given: list[tuple[str, list[str]]] = []
    if ns.log:
        given.append((LOG, _read_lines(ns.log)))
    if not ns.no_samples and resolved.from_file:
        given += _samples(name)
    progress = _Progress(stderr)
    report = audit(spec, time.time() if ns.now is None else ns.now, given, progress)
    if ns.json:
        stdout.write(json.dumps(as_json(ns.filter, spec.file, report)) + "\n")
    else:
        stdout.write(as_text(ns.filter, spec.file, report))
    return FOUND_EXIT if report.findings else 0


def main(argv: Sequence[str] | None = None, prog: str = "banjail audit") -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        return run(args, prog, sys.stdout, sys.stderr)
    except _UsageError as e:
        parser(prog).print_usage(sys.stderr)
        sys.stderr.write(f"ERROR: {e}\n")
    except BanjailError as e:
        sys.stderr.write(f"ERROR: {e}\n")
    except BrokenPipeError:
        return 0
    return ERROR_EXIT


_VALUED = frozenset({"-c", "--config", "--log", "--now"})


def regex_main(args: Sequence[str], prog: str = "fail2ban-regex") -> int:
    """`fail2ban-regex --audit ...`: the same audit; with two arguments they are fail2ban-regex's LOG and
    FILTER (`fail2ban-regex --audit /var/log/auth.log sshd`)."""
    rest = [a for a in args if a != "--audit"]
    positional = [
        i for i, a in enumerate(rest) if not a.startswith("-") and (i == 0 or rest[i - 1] not in _VALUED)
    ]
    if len(positional) == 2:
        log_at = positional[0]
        rest = [*rest[:log_at], "--log", *rest[log_at:]]
    return main(rest, prog=f"{prog} --audit")


if __name__ == "__main__":
    sys.exit(main())
