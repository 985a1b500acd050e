"""`fail2ban-regex` (also `banjail regex`): test a filter or a regex against a log file or a log line, offline.

Usage and report are upstream's (fail2ban 1.0.2): `fail2ban-regex [options] LOG REGEX [IGNOREREGEX]`, LOG a file,
log text or systemd-journal[...] (banjail.cli.journal). From upstream 1.1: a jail's name as REGEX
(banjail.cli.source) and -i/--invert (banjail.cli.invert). Beyond upstream: `--json` (one JSON object per
failure), `--now EPOCH` (evaluate dates as if now were EPOCH), a progress bar on a terminal, and memory that stays
flat: the log is read in chunks of whole lines and handed to Matcher.scan; only the example lines the report will
print are kept.

Exit status: 0 when the test ran, 255 for any error (bad usage, unreadable log, bad regex or filter), as upstream;
1 for an unknown -l level or -e encoding, a bad datepattern or %-reference, a wrong systemd-journal[...] or an
unreadable journal, where upstream stops with a traceback (exit status 1).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from banjail.cli import report
from banjail.cli.collector import DEFAULT_BOUND, Collector, wants_records
from banjail.cli.cycles import fewer_collections
from banjail.cli.invert import Inverted, line_time
from banjail.cli.logfile import Chunk, literal_chunk, read_chunks, segments, with_next
from banjail.cli.options import Options, UsageError, parse_args, parser
from banjail.cli.progress import NoProgress, Progress, progress_for
from banjail.cli.resolve import resolve
from banjail.cli.source import (
    FILE,
    JOURNAL,
    Source,
    classify_log,
    datepattern_name,
    echo_filter_settings,
    resolve_filter,
)
from banjail.daemon.regexview import reported_prefregex
from banjail.errors import INTERPOLATION, BanjailError, ConfigError, JournalError, RegexError
from banjail.filter import engine as engines
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import MAX_LINE, Matcher
from banjail.filter.outcome import ScanStats
from banjail.model import FilterSpec

ERROR_EXIT = 255
# Where upstream stops with a Python traceback (exit status 1) instead of its own error: an unknown -l level, an
# unknown -e encoding of a log file, a datepattern that does not compile, a bad %-reference in a filter file, a
# wrong systemd-journal[...] argument or an unreadable journal.
# banjail prints one error line and exits 1.
CRASH_EXIT = 1
# The levels upstream's -l takes (logging's names and fail2ban's own), in any case, or a number.
LOG_LEVELS = frozenset(
    {"CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "NOTICE", "MSG", "INFO", "DEBUG", "TRACEDEBUG", "HEAVYDEBUG",
     "NOTSET"}
)
def _effective_spec(spec: FilterSpec, opts: Options) -> FilterSpec:
    """The filter with the command line's overrides: -L, -d, --timezone, --usedns, -r."""
    changes: dict[str, object] = {}
    if opts.maxlines:
        changes["maxlines"] = opts.maxlines
    if opts.datepattern is not None:
        changes["datepattern"] = tuple(opts.datepattern.split("\n"))
    if opts.timezone:
        changes["logtimezone"] = opts.timezone
    if opts.usedns:
        changes["usedns"] = opts.usedns
    elif opts.raw and spec.usedns in ("yes", "warn"):
        changes["usedns"] = "raw"  # -r: take host names as written, never ask a resolver
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def _log_chunks(source: Source, opts: Options, spec: FilterSpec, echo: list[str]) -> Iterator[Chunk]:
    if source.kind == JOURNAL:
        # imported here: the journal reader brings asyncio and subprocess, which a log file's run never needs
        from banjail.cli import journal

        q = journal.query(source.value, [opts.journalmatch] if opts.journalmatch else spec.journalmatch)
        echo.append("Use         systemd journal")
        echo.append(report.use_line("encoding", opts.encoding))
        if q.match:
            echo.append(report.use_line("journal match", q.match))
        return journal.read_journal(q, opts.encoding)
    multiline = spec.maxlines > 1
    if source.kind == FILE:
        echo.append(report.use_line("log file", source.value))
        echo.append(report.use_line("encoding", opts.encoding))
        return read_chunks(source.value, opts.encoding)
    if not multiline and "\n" not in source.value:
        echo.append(report.use_line("single line", report.shorten(source.value.replace("\n", r"\n"))))
    else:
        echo.extend(report.multi_line_preview(source.value.split("\n")))
    return iter([literal_chunk(source.value)])


@dataclass(frozen=True, slots=True)
class _Setup:
    spec: FilterSpec
    detector: DateDetector
    matcher: Matcher
    source: Source
    chunks: Iterator[Chunk]
    notice: str = ""


def _setup(opts: Options, echo: list[str]) -> _Setup:
    """Resolve the arguments into a matcher and a source of chunks, appending upstream's "Use ..." lines to
    `echo` as it goes (so they can be shown before an error, as upstream does)."""
    if opts.maxlines:
        echo.append(report.use_line("maxlines", str(opts.maxlines)))
    if opts.datepattern is not None:
        name = datepattern_name(FilterSpec(datepattern=tuple(opts.datepattern.split("\n"))))
        echo.append(report.use_line("datepattern", f"{opts.datepattern} : {name}"))
    source = classify_log(opts.log)
    resolved = resolve_filter(opts.regex, opts.config, "systemd" if source.kind == JOURNAL else "auto")
    echo.extend(resolved.echo)
    echo.extend(echo_filter_settings(resolved, bool(opts.maxlines), opts.datepattern is not None))
    spec = resolved.spec
    if opts.ignoreregex is not None:
        spec = dataclasses.replace(spec, ignoreregex=(*spec.ignoreregex, opts.ignoreregex))
        echo.append(report.use_line("ignoreregex line", report.shorten(opts.ignoreregex)))
    spec = _effective_spec(spec, opts)
    if source.kind == JOURNAL:
        # the journal's lines carry their entry's time in front: upstream drops the filter's datepattern there
        spec = dataclasses.replace(spec, datepattern=())
    detector = DateDetector(spec.datepattern, logtimezone=spec.logtimezone)
    # Printing failures (-o, --json) stops at the first failregex that finds one, as upstream's -o does.
    check_all = not (opts.quiet or opts.no_check_all)
    try:
        # -v lists every match as upstream does (banjail.filter.trace), up to the bound of printed lines
        trace = (opts.maxlines or DEFAULT_BOUND) if opts.verbose and not opts.quiet else 0
        # -o row/matches/<time> print what only the matcher's records keep (banjail.filter.record)
        record = wants_records(opts)
        matcher = Matcher(spec, detector=detector, resolver=resolve, check_all=check_all, trace=trace,
                          record=record)
        matcher.count_pref = spec.prefregex != "" and not (opts.quiet or opts.out is not None or opts.json)
        # Printed failures of lines without a date (journal-format lines) take `now`, as upstream prints them
        # (a record keeps the time None, and its Failure takes `now`).
        matcher.stamp_dateless = opts.quiet and not record
        # A one-off run over a log: the native engine matches each chunk on a second core while this thread
        # steps through the hits (the same output; the daemon keeps one thread per scan).
        matcher.threaded = True
    except BanjailError as e:
        if resolved.missing_filter:
            raise BanjailError(
                f"no filter {resolved.missing_filter!r} in {opts.config}/filter.d nor in banjail's stock "
                f"filters, and as a regex: {e}"
            ) from None
        raise
    chunks = _log_chunks(source, opts, spec, echo)
    return _Setup(spec, detector, matcher, source, chunks, resolved.notice)


def run(opts: Options, stdout: TextIO, stderr: TextIO) -> int:
    """Run the test `opts` describes, printing to `stdout` (the report, or failures with -o/--json) and the
    progress bar to `stderr`. Returns the exit status. Raises BanjailError/OSError for the caller to report."""
    echo: list[str] = report.header_lines()
    try:
        setup = _setup(opts, echo)
        echo.append("")
    finally:
        if not opts.quiet:
            stdout.write("\n".join(echo) + "\n")
    spec, detector, matcher, source = setup.spec, setup.detector, setup.matcher, setup.source
    chunks = setup.chunks
    for notice in (source.note, setup.notice):
        if notice:  # on stderr: stdout stays upstream's report
            stderr.write(f"fail2ban-regex: {notice}\n")

    size = os.path.getsize(source.value) if source.kind == FILE else 0
    progress: Progress = progress_for(size, stderr) if source.kind == FILE else NoProgress()
    now = time.time() if opts.now is None else opts.now
    rows: list[str] = []
    inverted = Inverted(opts.out, spec.maxlines, line_time(detector, now)) if opts.invert else None
    collector = Collector(opts, spec.maxlines, rows, inverted, matcher.records)
    stats = ScanStats()
    started = time.perf_counter()
    wants_failures = collector.wants_failures()
    try:
        lineno = 1  # of the chunk's first line
        for chunk, ahead in with_next(chunks, source.kind == FILE):
            if ahead is not None:  # its dates are matched on a thread of their own while this chunk is scanned
                matcher.prefetch(ahead.text)
            cut = segments(chunk.text)
            seen = stats.lines
            for text, before in cut.runs:
                missed, ignored = stats.missed, stats.ignored
                outcomes = matcher.scan(
                    text,
                    now,
                    lineno + before,
                    stats,
                    keep_missed=collector.wants_missed(missed),
                    keep_ignored=collector.wants_ignored(ignored),
                    keep_matched=collector.wants_matched(),
                    failures=wants_failures,
                )
                collector.take(outcomes, missed, ignored)
            lineno += cut.lines if cut.lines is not None else stats.lines - seen
            if rows:  # (two writes: with --json a row is a whole run's text, not worth copying to add "\n")
                stdout.write("\n".join(rows))
                stdout.write("\n")
                rows.clear()
            progress.update(chunk.end, stats.lines)
    finally:
        progress.close()
    if inverted is not None and (held := inverted.flush()):
        stdout.write("\n".join(held) + "\n")
    elapsed = time.perf_counter() - started
    # which engine ran, on stderr (stdout stays byte for byte upstream's report, or the failures alone)
    stderr.write(f"engine: {engines.describe(matcher.engine, matcher.engine_note, stats.lines, stats.native_lines)}\n")
    if opts.quiet:
        return 0
    # journal entries come with their time, so upstream lists no date template hits for them
    dates = None if source.kind == JOURNAL else detector
    results = _results(matcher, dates, stats, collector, elapsed)
    stdout.write("\n".join(report.results_lines(results)) + "\n")
    return 0


def _results(
    matcher: Matcher, detector: DateDetector | None, stats: ScanStats, collector: Collector, elapsed: float
) -> report.Results:
    opts = collector.opts
    pref = matcher.regexes.prefregex

    trace = matcher.trace
    verbose_hits: dict[int, list[report.Hit]] = {}
    now = time.time()
    for m in trace.matches if trace is not None else ():
        hit = report.Hit(m.fid, now if m.time is None else m.time, m.several)
        verbose_hits.setdefault(m.index, []).append(hit)

    def counts(
        texts: Sequence[str], hits: Sequence[int], verbose_hits: dict[int, list[report.Hit]]
    ) -> tuple[report.RegexCount, ...]:
        return tuple(
            report.RegexCount(text, hits[i] if i < len(hits) else 0, tuple(verbose_hits.get(i, ())))
            for i, text in enumerate(texts)
        )

    listing = report.Listing(
        bound=collector.bound,
        matched=tuple(collector.matched) if opts.print_all_matched else None,
        ignored=None if opts.print_no_ignored else tuple(collector.ignored),
        missed=None if opts.print_no_missed else tuple(collector.missed),
        all_matched=opts.print_all_matched,
        all_ignored=opts.print_all_ignored,
        all_missed=opts.print_all_missed,
    )
    return report.Results(
        failregex=counts(matcher.failregex, stats.failregex_hits, verbose_hits),
        ignoreregex=counts(matcher.ignoreregex, stats.ignoreregex_hits, {}),
        # In the order the detector tries its templates at the end, as upstream lists them.
        templates=tuple((t.name, stats.template_hits.get(t.name, 0)) for t in detector.templates)
        if detector is not None
        else (),
        counts=report.LineCounts(
            stats.lines,
            stats.ignored,
            stats.matched + collector.reclaimed,
            stats.missed - collector.reclaimed,
        ),
        listing=listing,
        # upstream prints the compiled prefregex: its <HOST> groups in upstream's spelling (the matcher's own
        # expansion matches the same addresses)
        prefregex=reported_prefregex(pref.source, matcher.usedns) if pref is not None else "",
        prefregex_hits=stats.prefregex_hits,
        prefregex_groups=tuple(trace.pref_groups) if trace is not None else (),
        elapsed=elapsed,
        verbose=opts.verbose,
        lines_cut=(matcher.truncated, MAX_LINE),
    )


def _configure_logging(opts: Options, stdout: TextIO) -> None:
    level = logging.getLevelName(opts.log_level.upper())
    handler = logging.StreamHandler(stdout)
    handler.setFormatter(logging.Formatter("%(levelname)-1.1s: %(message)s"))
    logger = logging.getLogger("banjail")
    logger.addHandler(handler)
    logger.setLevel(level if isinstance(level, int) else logging.CRITICAL)


def main(argv: Sequence[str] | None = None, prog: str = "fail2ban-regex") -> int:
    """The console script: parse, run, and turn every error into one `ERROR: ...` line and exit status 255."""
    args = sys.argv[1:] if argv is None else argv
    if "--audit" in args:  # banjail's injection audit: `fail2ban-regex --audit [LOG] FILTER` (banjail.cli.audit)
        from banjail.cli import audit

        return audit.regex_main(args, prog)
    try:
        opts = parse_args(args, prog)
    except UsageError as e:
        parser(prog).print_usage(sys.stderr)
        sys.stderr.write(f"{e}\n")
        return ERROR_EXIT
    # Errors go where upstream prints them (stdout), except with --json, whose stdout holds JSON only.
    errors = sys.stderr if opts.json else sys.stdout
    if not opts.log_level.isdigit() and opts.log_level.upper() not in LOG_LEVELS:
        errors.write(
            f"ERROR: invalid log level {opts.log_level!r} (-l); use one of {', '.join(sorted(LOG_LEVELS))} "
            "or a number\n"
        )
        return CRASH_EXIT
    _configure_logging(opts, sys.stderr if opts.json else sys.stdout)
    try:
        with fewer_collections():
            return run(opts, sys.stdout, sys.stderr)
    except JournalError as e:
        errors.write(f"ERROR: {e}\n")
        return CRASH_EXIT
    except ConfigError as e:
        errors.write(f"ERROR: {e}\n")
        # upstream's configparser stops on a bad %-reference with a traceback, and so does its first line on a
        # datepattern that does not compile
        crash = any(p.kind == INTERPOLATION or (isinstance(e, RegexError) and p.option == "datepattern")
                    for p in e.problems)
        return CRASH_EXIT if crash else ERROR_EXIT
    except BanjailError as e:
        errors.write(f"ERROR: {e}\n")
    except UnicodeError as e:
        errors.write(f"ERROR: cannot decode {opts.log} as {opts.encoding}: {e}; give the right one with -e\n")
    except LookupError as e:
        errors.write(f"ERROR: {e}; give a known encoding with -e (for example -e UTF-8)\n")
        return CRASH_EXIT
    except BrokenPipeError:
        return 0  # the reader (head, less) has seen enough
    except OSError as e:
        errors.write(f"ERROR: cannot read log file {opts.log}: {e.strerror or e}\n")
    return ERROR_EXIT


if __name__ == "__main__":
    sys.exit(main())
