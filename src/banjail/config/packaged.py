"""Which filter files in a config dir are fail2ban's own packaged files, unmodified: not the user's.

On a host where Debian's fail2ban is (or was) installed, /etc/fail2ban/filter.d/ holds upstream's filters. A file
whose md5 equals the one dpkg recorded for it (the `Conffiles` of package fail2ban in /var/lib/dpkg/status; they
stay listed after `apt remove` until purge) is upstream's text as shipped, not something the user wrote: banjail
reads its own hardened filter of that name instead (banjail.config.overlay), unless the jail sets
`packagedfilter = file`. A file the user edited has another md5 and stays the user's.

A conffile is matched by its path relative to /etc/fail2ban and its md5, so a copy of the tree in another config
dir (`-c DIR`) is recognised too. The status file is parsed again only when it changes; BANJAIL_DPKG_STATUS names another one
(tests, chroots). A missing or unreadable status file means nothing is packaged.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from banjail.digest import md5_hex

DPKG_STATUS = "/var/lib/dpkg/status"
STATUS_ENV = "BANJAIL_DPKG_STATUS"
PACKAGE = "fail2ban"
ROOT = "/etc/fail2ban/"

OPTION = "packagedfilter"
HARDENED = "hardened"  # the default: banjail's filter of the same name replaces the packaged file
FILE = "file"  # the packaged file is read as it is
CHOICES = (HARDENED, FILE)
EXPECTED = (
    "a known choice for fail2ban's unmodified packaged filter files"  # Reader.typed's wording of a bad value
)
FIX = f"use {HARDENED} (banjail's filter of the same name, the default) or {FILE} (read the packaged file as it is)"

_MD5 = re.compile(r"[0-9a-f]{32}")
# dpkg's flags after a conffile's md5 (dpkg(1) status format): the file left the package, or goes on upgrade
_FLAGS = frozenset({"obsolete", "remove-on-upgrade"})


# Between two stanzas: a run of whitespace holding two line ends or more.
_SEPARATOR = re.compile(r"\n\s*\n")
_WINDOW = 4096


def _stanzas_naming(status: str, needle: str) -> Iterator[str]:
    """The stanzas of re.split(_SEPARATOR, status) that contain `needle`, in order, without splitting all of a
    700 kB status file (9 ms, much of a fail2ban-regex start-up) for one package's stanza.

    Exact because a separator lies inside one run of whitespace and depends on that run alone: matched in a
    window whose ends cut no run (an end is the text's, or next to a character that is not whitespace), the
    separators are the whole text's. `needle` starts and ends with such a character, so it lies in one stanza."""
    if not needle or needle[0].isspace() or needle[-1].isspace():
        yield from (stanza for stanza in _SEPARATOR.split(status) if needle in stanza)
        return
    at = status.find(needle)
    while at >= 0:
        start, end = _stanza_start(status, at), _stanza_end(status, at + len(needle))
        yield status[start:end]
        at = status.find(needle, end)


def _stanza_start(status: str, at: int) -> int:
    # the end of the last separator before `at`, in windows that grow backwards until one holds a separator
    width = _WINDOW
    while True:
        low = max(0, at - width)
        while low > 0 and status[low - 1].isspace():
            low -= 1
        ends = [m.end() for m in _SEPARATOR.finditer(status, low, at)]
        if ends:
            return ends[-1]
        if low == 0:
            return 0
        width *= 2


def _stanza_end(status: str, at: int) -> int:
    # the start of the first separator from `at` on, in windows that grow forwards until one holds a separator
    width = _WINDOW
    while True:
        high = min(len(status), at + width)
        while high < len(status) and status[high].isspace():
            high += 1
        first = _SEPARATOR.search(status, at, high)
        if first is not None:
            return first.start()
        if high == len(status):
            return len(status)
        width *= 2


def conffiles(status: str, package: str = PACKAGE, root: str = ROOT) -> dict[str, str]:
    """{path relative to `root`: md5} of `package`'s conffiles under `root`, from dpkg status text `status`.

    Other packages, fields and conffiles outside `root` are skipped; an entry whose md5 is not 32 hex digits
    (dpkg writes `newconffile` while unpacking) is skipped; obsolete entries are kept (the md5 is still that of
    a file the package shipped). Never raises on malformed text."""
    found: dict[str, str] = {}
    for stanza in _stanzas_naming(status, f"Package: {package}"):
        lines = stanza.splitlines()
        if not any(line.strip() == f"Package: {package}" for line in lines if not line.startswith(" ")):
            continue
        inside = False
        for line in lines:
            if not line.startswith((" ", "\t")):
                inside = line.startswith("Conffiles:")
                continue
            if not inside:
                continue
            words = line.split()
            while words and words[-1] in _FLAGS:
                words.pop()
            if len(words) < 2 or not _MD5.fullmatch(words[-1]):
                continue
            path = " ".join(words[:-1])
            if path.startswith(root):
                found[path[len(root) :]] = words[-1]
    return found


@functools.lru_cache(maxsize=4)
def _parsed(status_path: str, stamp: tuple[int, int]) -> Mapping[str, str]:
    try:
        with open(status_path, encoding="utf-8", errors="replace") as handle:
            return conffiles(handle.read())
    except OSError:
        return {}


def _recorded(status_path: str) -> Mapping[str, str]:
    # read again when dpkg rewrote it (an upgrade of fail2ban records new md5s; a reload then sees them)
    try:
        info = os.stat(status_path)
    except OSError:
        return {}
    return _parsed(status_path, (info.st_mtime_ns, info.st_size))


def recorded() -> Mapping[str, str]:
    """The md5s dpkg records for fail2ban's files ({relative path: md5}); {} without a status file."""
    return _recorded(os.environ.get(STATUS_ENV) or DPKG_STATUS)


def md5(path: Path) -> str:
    with open(path, "rb") as handle:
        return md5_hex(handle.read())


def is_packaged(path: Path, rel: str) -> bool:
    """Whether file `path`, at `rel` (e.g. "filter.d/sshd.conf") in its config dir, is fail2ban's packaged file
    byte for byte (its md5 is the one dpkg records for /etc/fail2ban/`rel`)."""
    wanted = recorded().get(rel)
    if wanted is None:
        return False
    try:
        return md5(path) == wanted
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class Replacement:
    """A packaged file found while reading a filter: `file` in the config dir, `rel` its name there; `stock` is
    banjail's file read instead ("" when banjail has none, so the packaged file was read)."""

    rel: str
    file: str
    stock: str = ""


def replacement_for(path: str | Path, stock_dir: Path) -> Replacement | None:
    """The Replacement a name lookup makes for filter file `path` (a `filter.d/NAME.conf`): None when it is not
    fail2ban's packaged file unmodified; `stock` is "" when banjail has no filter of that name."""
    file = Path(path)
    if file.parent.name != "filter.d" or file.suffix != ".conf":
        return None
    rel = f"filter.d/{file.name}"
    if not is_packaged(file, rel):
        return None
    stock = stock_dir / rel
    return Replacement(rel, str(file), str(stock) if stock.is_file() else "")


def describe(found: tuple[Replacement, ...], jail: str = "") -> str:
    """One sentence for the replacements of one filter (the main file first), for the log and `-t`."""
    if not found:
        return ""
    main, rest = found[0], found[1:]
    stem = Path(main.rel).name.removesuffix(".conf")
    where = f"[{jail}] or [DEFAULT] of jail.local" if jail else "[DEFAULT] of jail.local"
    if not main.stock:
        return (
            f"{main.rel} is fail2ban's unmodified packaged file and banjail has no filter of that name: it is used "
            f"as it is; `banjail audit {stem}` tells whether a client can aim it at another address"
        )
    also = f", with {', '.join(r.rel for r in rest if r.stock)}" if any(r.stock for r in rest) else ""
    return (
        f"{main.rel} is fail2ban's unmodified packaged file; using banjail's hardened {stem} filter "
        f"({main.stock}{also}) and your .local files; to use the file anyway set {OPTION} = {FILE} in {where}"
    )
