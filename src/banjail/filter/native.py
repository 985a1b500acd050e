"""The native engine: the filter's regexes run by PCRE2 in C (banjail.filter._native), the rest as the Python
engine does it, with the same results.

What runs where, per chunk of a one-line program (maxlines = 1) with no ignoreregex:
- the chunk's lines are a _native.Rows (the chunk and where each line starts, _native_rows.c): a line's str is
  made only where Python or a kept outcome asks for it;
- C matches the uniform path's proven anchored date template on every line (_native.DateCut, the template's
  regex translated as the filter's are) and Python parses the epochs as the uniform path does
  (banjail.filter.uniform.read_dates: once per run of equal texts, or per minute, banjail.filter.dateruns),
  then hands C each line's date-cut offset, or the date-cut lines when a date follows a prefix (web logs);
- C runs, on every line holding one of the filter's required literals (banjail.filter.prefilter), the
  prefregex and the dispatched failregexes, with the translations of banjail.filter.translate, and returns
  only the lines where a failregex matched, with their groups;
- C runs the one-line step on those lines (_native.Step, _native_step.c: singleline.match_line and
  uniform.run_line with the groups given, on the log's own session dict, address cache and counts), handing a
  line it does not port (no valid date, undecided by PCRE2) to Python's run_line, in line order. A chunk whose
  dates follow a prefix (web logs) runs the step in Python, and so does a program whose
  prefregex has folded groups (<F-ALT_*>, <F-TUPLE_*>) runs the step in Python
  (banjail.filter.singleline.match_line), which is the reference either way.
A line the prefregex does not match, or no failregex matches, changes no state but the prefregex count, which
the uniform path's rule gives. Anything else runs on the Python engine, exactly: a program the translator or
PCRE2 refuses (`accepts` says why), a chunk with a non-ASCII character, a chunk that is not uniform, a line PCRE2
cannot decide (a match limit).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from banjail import netaddr
from banjail.filter import session, translate
from banjail.filter.failure import INTERNAL
from banjail.filter.outcome import IGNORED, MATCHED, MISSED, Keep, LineOutcome, ScanStats
from banjail.filter.program import Program
from banjail.filter.scan import scan_chunk, size_stats
from banjail.filter.state import LogState
from banjail.filter.uniform import Dates, book, read_dates, run_line
from banjail.model import Failure

try:
    from banjail.filter import _native  # type: ignore[attr-defined]
except ImportError:  # not built (no compiler, headers or libpcre2-dev): the Python engine runs
    _native = None

_CACHE = 64  # compiled programs kept per engine (a daemon has one per jail)
# With LogState.threaded, a chunk of THREAD_LINES lines or more is matched by Program.start: shared with a
# thread of its own (below that, starting the thread costs more than it gives). The caller waits at most
# PATIENCE_NS for a batch (BATCH_LINES lines) that thread holds before it matches the batch itself (see
# _native_pipe.c).
THREAD_LINES = 256
PATIENCE_NS = 200_000
BATCH_LINES = 32


def built() -> bool:
    """Whether the C extension is there."""
    return _native is not None


def version() -> str:
    """PCRE2's version and whether its JIT runs, for the engine's name in reports."""
    if _native is None:
        return "not built"
    text, jit = _native.version()
    return f"PCRE2 {text.split()[0]}{' JIT' if jit else ''}"


class NativeEngine:
    """banjail.filter.engine's contract, on PCRE2."""

    name = "native"

    def __init__(self) -> None:
        # id(program.regexes) -> (regexes, _native.Program, its _native.Step or None)
        self._compiled: dict[int, tuple[Any, Any, Any]] = {}
        self._running: list[Any] = []  # Matches whose worker had not stopped when their step ended
        self._dates: dict[Any, Any] = {}  # a date template's regex -> its _native.DateCut, or None: refused
        self._dated: Any = None  # the DateCut that dated the last chunk: prefetch's guess for the next one

    def accepts(self, program: Program) -> str | None:
        try:
            self._program(program)
        except translate.Refused as refused:
            return str(refused)
        return None

    def _program(self, program: Program) -> tuple[Any, Any, Any]:
        key = id(program.regexes)
        cached = self._compiled.get(key)
        if cached is not None and cached[0] is program.regexes:
            return cached
        compiled = compile_c(program)
        if len(self._compiled) >= _CACHE:
            self._compiled.clear()
        found = (program.regexes, compiled, compile_step(program))
        self._compiled[key] = found
        return found

    def _keep_running(self, matches: Any) -> None:
        """Keeps a Program.start Matches whose worker thread is still matching a batch the caller took over, until
        the worker stopped: dropping it now would wait for a thread a loaded machine may not run soon."""
        self._running = [m for m in self._running if not m.finished]
        if not matches.finished:
            self._running.append(matches)

    def _line_regex(self, regex: Any) -> Any:
        """`regex` (a date template's, or the prefregex) as a _native.DateCut, or None when the translator or
        PCRE2 refuses it."""
        if regex not in self._dates:
            if len(self._dates) >= _CACHE:
                self._dates.clear()
            try:
                self._dates[regex] = _native.DateCut(translate.to_pcre2(regex))
            except (translate.Refused, ValueError):
                self._dates[regex] = None
        return self._dates[regex]

    def _cut(
        self, template: Any, chunk: str, fraction: int
    ) -> tuple[list[int] | None, list[int], list[str], list[int] | None, list[int] | None] | None:
        """banjail.filter.uniform's Cut, by PCRE2 (None for a template the translator or PCRE2 refuses)."""
        date_cut = self._line_regex(template.regex)
        self._dated = date_cut
        return None if date_cut is None else date_cut.cuts(chunk, fraction)

    def _runs(
        self, template: Any, chunk: str, seconds: int, fraction: int
    ) -> tuple[list[int] | None, list[int], list[tuple[int, str, tuple[tuple[int, int], ...]]], bytes] | None:
        """banjail.filter.dateruns' Runs, by PCRE2 (None for a template the translator or PCRE2 refuses)."""
        date_cut = self._line_regex(template.regex)
        self._dated = date_cut
        return None if date_cut is None else date_cut.runs(chunk, seconds, fraction)

    def _prefetch(self, state: LogState) -> None:
        """Hands LogState.ahead, the next chunk, to the DateCut that dated this one: its own thread matches the
        next chunk's dates while this one steps (_native_prefetch.c), and its cuts or runs of that chunk object
        read each line's match from there (a chunk dated otherwise drops it, unread)."""
        ahead, state.ahead = state.ahead, None
        if ahead is not None and self._dated is not None and ahead.isascii() and ahead.endswith("\n"):
            self._dated.prefetch(ahead)

    def _searched(self, found: Dates, chunk: str, rows: Sequence[str]) -> tuple[str, list[int]]:
        """The text C's regexes search for the chunk's lines, and where each line's date-cut text starts in it:
        the chunk and the date ends when every date starts its line (a line whose date text is not a valid date
        is searched whole); else the date-cut lines themselves (prefix + rest: see banjail.filter.uniform's note
        on prefixes), each from 0."""
        dates, ends, starts = found.dates, found.ends, found.starts
        if starts is None:
            cuts = ends if not found.invalid else [ends[i] if dates[i] is not None else 0 for i in range(len(rows))]
            return chunk, cuts
        if found.invalid:
            starts = [s if d is not None else 0 for s, d in zip(starts, dates, strict=True)]
            ends = [e if d is not None else 0 for e, d in zip(ends, dates, strict=True)]
        return self._without(found, chunk, starts, ends), [0] * len(rows)

    def _without(self, found: Dates, chunk: str, starts: list[int], ends: list[int]) -> str:
        """`chunk` with [starts[i], ends[i]) taken out of each line i."""
        date_cut = self._line_regex(found.template.regex)
        if date_cut is not None:
            return str(date_cut.without(chunk, starts, ends))
        rows = chunk.split("\n")[:-1]
        return "".join([row[:s] + row[e:] + "\n" for row, s, e in zip(rows, starts, ends, strict=True)])

    def _set_pref(self, program: Program, found: Dates, searched: str, cuts: list[int], counted: bool) -> None:
        """Sets found.pref (before book reads it) where the caller counts the prefregex itself."""
        if counted and (found.starts is not None or not program.pref_any):  # else book's rule for pref_any holds
            found.pref = self._pref_count(program, found, searched, cuts)

    def _pref_count(self, program: Program, found: Dates, searched: str, cuts: list[int]) -> tuple[int, bool]:
        """How many date-cut lines (`searched` from `cuts`, as _searched gives them) the prefregex matches, and
        whether it matches the last (fail2ban-regex's `Prefregex: N total`, as the per-line path counts it)."""
        pref = program.pref
        assert pref is not None
        if found.starts is None:  # the raw chunk: the date-cut lines are the lines from their cuts
            searched = self._without(found, searched, [0] * len(cuts), cuts)
        counter = self._line_regex(pref.pattern)
        got = counter.count(searched) if counter is not None else None
        if got is not None:
            return got[0], got[1]
        search = pref.pattern.search  # PCRE2 could not decide for a line (a match limit): Python's re does
        hits = [search(row + "\n") is not None for row in searched.split("\n")[:-1]]
        return sum(hits), hits[-1]

    def scan(
        self,
        program: Program,
        state: LogState,
        chunk: str,
        now: float,
        first_lineno: int,
        stats: ScanStats,
        keep: Keep,
    ) -> list[LineOutcome]:
        if not chunk.endswith("\n") or not chunk.isascii():
            return scan_chunk(program, state, chunk, now, first_lineno, stats, keep)
        # the chunk's lines, each a str only when asked for (most never are: see _native_rows.c)
        lines = _native.Rows(chunk)
        rows: Sequence[str] = lines
        counted = state.count_pref and program.pref is not None
        found = read_dates(
            program, state, rows, now, judge=False, chunk=chunk, cut=self._cut, prefixed=True, counted=counted,
            runs=self._runs, longest=lines.longest,
        )
        if found is None:
            return scan_chunk(program, state, chunk, now, first_lineno, stats, keep)
        size_stats(stats, program)
        searched, cuts = self._searched(found, chunk, rows)
        out: list[LineOutcome] = []
        counts = [0, 0, 0]  # by kind: MISSED, MATCHED, IGNORED
        keep_missed = keep.missed
        _regexes, compiled, c_step = self._program(program)
        # How often the cyclic collector walks the chunk's objects is the callers' policy, not the engine's:
        # fail2ban-regex raises its threshold for the run (banjail.cli.cycles), the server holds it off per batch
        # within a bound (banjail.daemon.collector).
        # the C step builds a line's parts as ("", date text, rest): only for dates that start their line
        stepped = c_step is not None and found.starts is None
        if stepped:  # the step reads each hit's record, making only the dicts it needs (see _native_step.c)
            threaded = state.threaded and len(cuts) >= THREAD_LINES  # then matched while the step runs
            hits: Any = compiled.start(searched, cuts, threaded, PATIENCE_NS, BATCH_LINES)
        else:
            hits = compiled.scan(searched, cuts)
        self._prefetch(state)  # after the matching thread got this chunk: that thread's work comes first
        if stepped:
            self._set_pref(program, found, searched, cuts, counted)
            after = _after(lines, found)
            _step(c_step, program, state, found, rows, hits, now, first_lineno, stats, keep, counts, out, after)
            if not isinstance(hits, list):
                self._keep_running(hits)
            return out
        missed_from = 0  # with keep_missed: the next line whose missed outcome may be due
        for i, pre, fails in hits:
            if keep_missed:
                out += _missed(found, rows, missed_from, i, first_lineno)
                missed_from = i + 1
            line = rows[i]
            given = None if pre is None else (pre, fails)  # None: PCRE2 could not decide, Python's re does
            split = found.line(program, state, i, line, now)
            run_line(program, state, split, line, first_lineno + i, now, keep, stats, counts, out, given)
        if keep_missed:
            out += _missed(found, rows, missed_from, len(rows), first_lineno)
        self._set_pref(program, found, searched, cuts, counted)
        book(program, state, found, rows, stats, counts[MATCHED], counts[IGNORED], _after(lines, found))
        stats.native_lines += len(rows)
        return out


def _step(
    c_step: Any,
    program: Program,
    state: LogState,
    found: Dates,
    rows: Sequence[str],
    hits: Any,  # Program.scan's list or Program.start's Matches
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
    counts: list[int],
    out: list[LineOutcome],
    after: Any,
) -> None:
    """The one-line step in C on the chunk's hits (see the module's note), then the chunk's counts."""

    def fallback(i: int, pre: Any, fails: Any) -> None:
        line = rows[i]
        given = None if pre is None else (pre, fails)  # None: PCRE2 could not decide, Python's re does
        split = found.line(program, state, i, line, now)
        run_line(program, state, split, line, first_lineno + i, now, keep, stats, counts, out, given)

    texts = found.texts if isinstance(found.texts, list) else None  # None: C cuts each hit's from its row
    flags = keep.failures | keep.matched << 1 | keep.ignored << 2 | keep.missed << 3
    c_step.run(
        hits, rows, found.dates, texts, found.ends, found.template.name, first_lineno, now, flags, state,
        counts, out, stats.failregex_hits, fallback,
    )  # fmt: skip
    book(program, state, found, rows, stats, counts[MATCHED], counts[IGNORED], after)
    stats.native_lines += len(rows)


def _after(lines: Any, found: Dates) -> Any:
    """book's count of the rows longer than their date ends, taken by C from the chunk's Rows."""
    return lambda: lines.after(found.ends)


def _missed(found: Dates, rows: Sequence[str], start: int, end: int, first_lineno: int) -> list[LineOutcome]:
    """The outcomes of lines start..end-1, which no failregex matched (no ignoreregex: they are missed)."""
    name = found.template.name
    dates = found.dates
    return [
        LineOutcome(first_lineno + i, rows[i], MISSED, template=name if dates[i] is not None else None)
        for i in range(start, end)
    ]


def compile_c(program: Program) -> Any:
    """The C program for `program` (raises translate.Refused when the native engine cannot run it exactly)."""
    if _native is None:
        raise translate.Refused("the C extension is not built")
    if not program.single or program.by_first is None:
        raise translate.Refused("a multi-line buffer (maxlines > 1)")
    if program.ignore:
        raise translate.Refused("ignoreregex")
    pref = program.pref
    pref_text = translate.to_pcre2(pref.pattern) if pref is not None else None
    fails = [translate.to_pcre2(r.pattern) for r in program.fail]
    orders: list[tuple[int, ...]] = [tuple(program.any_first)]
    table = bytearray(128)
    for char, order in program.by_first.items():
        if len(char) == 1 and ord(char) < 128:
            if order not in orders:
                orders.append(tuple(order))
            table[ord(char)] = orders.index(tuple(order))
    content = pref.pattern.groupindex.get("content", -1) if pref is not None else -1
    try:
        return _native.Program(
            pref_text,
            _names(pref.pattern.groupindex) if pref is not None else (),
            content,
            fails,
            [_names(r.pattern.groupindex) for r in program.fail],
            bytes(table),
            tuple(orders),
            _candidates(program),
        )
    except ValueError as exc:  # PCRE2 refused a translation (e.g. a variable-length look-behind)
        raise translate.Refused(str(exc)) from None


_FAILURE_FIELDS = ("fid", "ip", "time", "lines", "groups", "lineno", "regex_index")
_OUTCOME_FIELDS = ("lineno", "line", "kind", "failregex", "ignoreregex", "failures", "template")


def compile_step(program: Program) -> Any:
    """The C one-line step for `program` (_native.Step), or None where the Python step runs: a prefregex with
    folded groups, a <F-TUPLE_USER> group, or records whose fields are not the ones _native_step.c sets. A failregex's folded groups
    (<F-ALT_*>, <F-TUPLE_*>) are folded in C from its (alt, tuples) pairs, as its fold() folds them."""
    if _native is None or program.pref_folds or program.by_first is None:
        return None
    if any(target == "user" for r in program.fail for _, target in r.tuples):
        return None  # a tuple user name: session._add_user's sort key, which _native_session.c does not have
    if (
        tuple(f.name for f in dataclasses.fields(Failure)) != _FAILURE_FIELDS
        or tuple(f.name for f in dataclasses.fields(LineOutcome)) != _OUTCOME_FIELDS
    ):
        return None
    return _native.Step(
        dict(program.by_first),
        tuple(program.any_first),
        tuple(program.searches),
        tuple((r.alt, r.tuples) if folds else None for r, folds in zip(program.fail, program.folds, strict=True)),
        program.check_all,
        program.pref_search is not None,
        INTERNAL,
        session.USER_PAIRS,
        Failure,
        _FAILURE_FIELDS,
        LineOutcome,
        _OUTCOME_FIELDS,
        (session.MAX_USERS, session.MAX_USER_CHARS, session.MAX_LINES, session.MAX_LINE_CHARS),
        netaddr.UNSPEC,
    )


def _candidates(program: Program) -> str | None:
    """The literal prefilter for C, or None (then every line runs the regexes: slower, as exact)."""
    if program.candidates is None:
        return None
    try:
        return translate.to_pcre2(program.candidates)
    except translate.Refused:
        return None


def _names(groupindex: Any) -> tuple[tuple[str, int], ...]:
    # in Python's order of the names (groupdict's key order). Interned: re's group names are new strs, and the
    # C step looks its keys up by the interned names ("user", "ip4", ...), which a dict then finds by identity
    # rather than by comparing the characters (callgrind: 700k memcmp calls per 200k sshd lines)
    return tuple(sorted(((sys.intern(name), number) for name, number in groupindex.items()), key=lambda item: item[1]))
