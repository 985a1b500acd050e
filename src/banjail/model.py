"""Frozen values that cross stage boundaries (see ../shared/DESIGN.md, "Data flow").

Every stage takes these and returns these; none of them holds behaviour or I/O.
Times are POSIX epoch seconds as float.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Named groups of a failure, as upstream's ticket data: lower-case keys ("user", "ip4", "host", "fid", any
# <F-NAME> lowered), string values. A tuple of pairs keeps Failure hashable and frozen.
Groups = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a log source stands: byte offset after the last complete line read, plus the hash of the file's
    first line (so a rotated or replaced file is recognised), or a journal cursor."""

    offset: int = 0
    first_line_hash: str = ""
    cursor: str = ""


@dataclass(frozen=True, slots=True)
class LogLine:
    """One complete log line as read from a source (no trailing newline)."""

    source: str  # file path, or "journal:<jail>"
    text: str
    position: Position = field(default_factory=Position)


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Complete lines read from one source in one go, and where the source stands after the last of them.

    The daemon's hot path: one object per batch instead of one LogLine and one Position per line.
    `time` is set when the source knows each line's time exactly (the journal); then date detection is skipped.
    """

    source: str
    lines: tuple[str, ...] | list[str]
    position: Position = field(default_factory=Position)
    times: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """One failure a filter found.

    fid is what gets counted: the <F-ID> group if present, else the address (IPv4-mapped IPv6 folded to IPv4),
    else the DNS name. ip is the normalised address when there is one. lineno is the 1-based number of the input
    line that completed the failure (0 when the caller does not number lines).
    """

    fid: str
    ip: str | None
    time: float
    lines: tuple[str, ...]
    groups: Groups = ()
    lineno: int = 0
    regex_index: int = -1  # which failregex (0-based) produced it

    def group(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.groups:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class BanRequest:
    """The counter decided that fid has reached maxretry."""

    jail: str
    fid: str
    ip: str | None
    at: float  # time of the last failure
    failures: int
    lines: tuple[str, ...]
    groups: Groups = ()


@dataclass(frozen=True, slots=True)
class Ban:
    """An address (or id) banned in a jail until `until` (None = permanent).

    follows: the ban's length is the jail's bantime, whatever it is now: `set <jail> bantime` moves `until` to
    `at` + the new bantime (None for -1), as upstream's tickets without a ban time of their own. False: the
    ban has its own length, which no later bantime changes (an incremented ban, one a newer ban prolonged,
    one restored from the store or from the fleet, as upstream's tickets with their own ban time).
    """

    jail: str
    fid: str
    ip: str | None
    at: float
    until: float | None
    count: int  # how many times this fid has been banned (bantime.increment), 1 for the first
    failures: int
    lines: tuple[str, ...] = ()
    groups: Groups = ()
    restored: bool = False
    follows: bool = False

    @property
    def bantime(self) -> float:
        return -1.0 if self.until is None else self.until - self.at


@dataclass(frozen=True, slots=True)
class Unban:
    jail: str
    fid: str
    ip: str | None
    at: float
    manual: bool = False  # manual unbans delete the ban from the store; expiry keeps it (bantime.increment)


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """A filter after config resolution: every %(x)s and <tag> the config can resolve is resolved; regex texts are
    still fail2ban regexes (with <HOST>, <F-USER>...), compiled by banjail.filter.

    Produced by banjail.config (from filter.d files, jail options and name[args]), consumed by
    banjail.filter.matcher.Matcher.
    """

    failregex: tuple[str, ...] = ()
    ignoreregex: tuple[str, ...] = ()
    prefregex: str = ""
    # datepattern lines ('%%' already reduced to '%'); empty = upstream's default template set.
    datepattern: tuple[str, ...] = ()
    maxlines: int = 1
    logtimezone: str = ""
    journalmatch: tuple[str, ...] = ()
    usedns: str = "warn"  # yes | warn | no | raw
    name: str = ""  # filter name as given ("sshd"), for messages and reports
    file: str = ""  # path of the main filter file ("" for regexes given inline)
