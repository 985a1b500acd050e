"""The text report of fail2ban-regex: the "Running tests" header lines and the "Results" section, laid out byte for
byte as upstream's fail2ban-regex 1.0.2 prints them (except the measured processing time).

Pure: every function takes plain values and returns the lines to print; nothing here reads files or the clock.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

# Upstream shortens echoed log lines and regexes in the header to this many characters (including the "...").
SHORT = 53


def shorten(text: str, limit: int = SHORT) -> str:
    """`text` unchanged if it has at most `limit` characters, else its first `limit - 3` and "..."."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tree(items: Sequence[str], header: str = "") -> list[str]:
    """A list drawn as upstream's tree: optional `|- header`, one `|  item` per item, closed by a backtick line.
    Nothing at all for an empty list."""
    if not items:
        return []
    out = [f"|- {header}"] if header else []
    out.extend("|  " + item for item in items)
    out.append("`-")
    return out


def header_lines() -> list[str]:
    return ["", "Running tests", "=============", ""]


def use_line(what: str, value: str) -> str:
    """One `Use ... : value` line; `what` is right-aligned the way upstream aligns its fixed labels."""
    return f"Use {what:>16} : {value}"


def multi_line_preview(lines: Sequence[str]) -> list[str]:
    """Upstream's echo of a literal LOG argument that holds several lines: the count, then at most five lines."""
    out = [f"Use      multi line : {len(lines)} line(s)"]
    for number, line in enumerate(lines, 1):
        if number > 5:
            out.append("| ...")
            break
        out.append(f"| {str(number)[:2]:>2}: {shorten(line)}")
    out.append("`-")
    return out


@dataclass(frozen=True, slots=True)
class Hit:
    """One failure as the verbose report lists it under the regex that found it."""

    fid: str
    time: float
    several: bool  # the line completed more than one failure before this one (upstream's "multiple regex")


@dataclass(frozen=True, slots=True)
class RegexCount:
    text: str  # the regex as written in the filter (tags not expanded)
    hits: int
    failures: tuple[Hit, ...] = ()  # only collected in verbose mode


@dataclass(frozen=True, slots=True)
class LineCounts:
    tested: int
    ignored: int
    matched: int
    missed: int


@dataclass(frozen=True, slots=True)
class Listing:
    """Which example lines the report prints after the counts, and the bound upstream applies to them.

    A kind's lines are printed when its count is below `bound` or its print-all flag is set; otherwise one
    "too many to print" line. `None` for a kind means it is switched off (--print-no-missed, --print-no-ignored,
    or matched lines without --print-all-matched).
    """

    bound: int
    matched: tuple[str, ...] | None = None
    ignored: tuple[str, ...] | None = ()
    missed: tuple[str, ...] | None = ()
    all_matched: bool = False
    all_ignored: bool = False
    all_missed: bool = False


@dataclass(frozen=True, slots=True)
class Results:
    failregex: tuple[RegexCount, ...]
    ignoreregex: tuple[RegexCount, ...]
    templates: tuple[tuple[str, int], ...]  # date template display name, hits; in the detector's order
    counts: LineCounts
    listing: Listing
    prefregex: str = ""  # the compiled prefregex, "" when the filter has none
    prefregex_hits: int = 0
    prefregex_groups: tuple[str, ...] = ()  # verbose: the groups of its first matches, as upstream prints them
    elapsed: float | None = None
    verbose: int = 0
    lines_cut: tuple[int, int] = (0, 0)  # banjail: lines cut, at how many bytes (a line only when some were)


def _regex_section(title: str, regexes: Sequence[RegexCount], verbose: int) -> list[str]:
    total = sum(r.hits for r in regexes)
    items: list[str] = []
    for number, regex in enumerate(regexes, 1):
        if regex.hits or verbose:
            items.append(f"{number:2d}) [{regex.hits}] {regex.text}")
        if verbose:
            for hit in regex.failures:
                stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(hit.time))
                note = " (multiple regex matched)" if hit.several else ""
                items.append(f"    {hit.fid}  {stamp}{note}")
    return ["", f"{title}: {total} total", *tree(items, " #) [# of hits] regular expression")]


def _listing(kind: str, count: int, lines: tuple[str, ...] | None, print_all: bool, bound: int) -> list[str]:
    if lines is None or not count:
        return []
    header = f"{kind.capitalize()} line(s):"
    if count < bound or print_all:
        return tree([line.rstrip() for line in lines], header)
    return [f"{header} too many to print.  Use --print-all-{kind} to print all {count} lines"]


def results_lines(results: Results) -> list[str]:
    """The "Results" section through the example lines, as upstream prints it."""
    out = ["", "Results", "======="]
    if results.prefregex:
        groups = [f"    {g}" for g in results.prefregex_groups] if results.verbose else []
        out += ["", f"Prefregex: {results.prefregex_hits} total", *tree([results.prefregex, *groups])]
    out += _regex_section("Failregex", results.failregex, results.verbose)
    out += _regex_section("Ignoreregex", results.ignoreregex, results.verbose)
    out += ["", "Date template hits:"]
    out += tree(
        [f"[{hits}] {name}" for name, hits in results.templates if hits or results.verbose],
        "[# of hits] date format",
    )
    c = results.counts
    out += ["", f"Lines: {c.tested} lines, {c.ignored} ignored, {c.matched} matched, {c.missed} missed"]
    if results.lines_cut[0]:
        cut, limit = results.lines_cut
        out.append(f"Lines cut: {cut} longer than {limit} characters (what follows the cut was not matched)")
    if results.elapsed is not None:
        out.append(f"[processed in {results.elapsed:.2f} sec]")
    out.append("")
    ls = results.listing
    out += _listing("matched", c.matched, ls.matched, ls.all_matched, ls.bound)
    out += _listing("ignored", c.ignored, ls.ignored, ls.all_ignored, ls.bound)
    out += _listing("missed", c.missed, ls.missed, ls.all_missed, ls.bound)
    return out
