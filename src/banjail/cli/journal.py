"""fail2ban-regex's `systemd-journal[...]` LOG, read offline through `journalctl -o json` (no binding needed).

The argument takes upstream's backend options: `journalpath` (a journal directory: `--directory`),
`journalfiles` (journal files, words with globs: one `--file` each), `journalflags` (4 = system journal only,
upstream's default when neither path nor files is given: `--system`; 8 = the current user's: `--user`; other bits
have no journalctl switch and are ignored) and `namespace` (`--namespace`). Matches are the filter's
`journalmatch`, or `-m`, as upstream. Each entry becomes the line the daemon's journal source makes of it
(banjail.sources.journalentry: its time in front, which the default date detectors read).
"""

from __future__ import annotations

import glob
import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from banjail.cli.logfile import Chunk
from banjail.config.tags import extract_options
from banjail.errors import JournalError
from banjail.sources.journal import match_args
from banjail.sources.journalentry import FIELDS, format_entry

OPTIONS = ("journalpath", "journalfiles", "journalflags", "namespace")
SYSTEM_ONLY, CURRENT_USER = 4, 8
# Lines handed to the matcher at once (a chunk): big enough that per-chunk costs vanish, small enough to stream.
CHUNK_LINES = 10_000


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """The journalctl command a `systemd-journal[...]` argument and a journalmatch make, and the match echoed."""

    argv: tuple[str, ...]
    match: str  # the journalmatch as upstream's "Use journal match" line shows it ("" when none)


def query(value: str, journalmatch: Sequence[str], journalctl: str = "journalctl") -> JournalQuery:
    """Pure: the command for LOG argument `value` ("systemd-journal" or "systemd-journal[opt=value, ...]").

    Raises JournalError for a malformed argument, an unknown option, or a journalflags that is not a number.
    """
    try:
        name, options = extract_options(value)
    except ValueError as exc:
        raise JournalError(f"wrong journal options in {value!r}: {exc}") from None
    if name != "systemd-journal":
        raise JournalError(f"{value!r}: the journal is written systemd-journal[option=value, ...]")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise JournalError(
            f"{value!r}: unknown journal option {unknown[0]!r}; the options are {', '.join(OPTIONS)}"
        )
    argv = [
        journalctl,
        "--output=json",
        "--no-pager",
        "--all",
        "--quiet",
        "--output-fields=" + ",".join(FIELDS),
    ]
    files = sorted(
        {f for word in re.split(r"[\s,]+", options.get("journalfiles", "")) if word for f in glob.glob(word)}
    )
    path = options.get("journalpath", "")
    if path:
        argv.append("--directory=" + path)
    argv.extend("--file=" + f for f in files)
    if "journalflags" in options:
        try:
            flags = int(options["journalflags"])
        except ValueError:
            raise JournalError(
                f"{value!r}: journalflags must be a number (4: system journal only), not {options['journalflags']!r}"
            ) from None
    else:
        flags = 0 if files or path else SYSTEM_ONLY
    if flags & SYSTEM_ONLY:
        argv.append("--system")
    if flags & CURRENT_USER:
        argv.append("--user")
    if options.get("namespace"):
        argv.append("--namespace=" + options["namespace"])
    matches = match_args(journalmatch)
    argv.extend(matches)
    return JournalQuery(tuple(argv), " ".join(matches))


def read_journal(q: JournalQuery, encoding: str, chunk_lines: int = CHUNK_LINES) -> Iterator[Chunk]:
    """The journal's entries as chunks of lines, oldest first. journalctl is stopped when the iteration ends
    early. Raises JournalError when journalctl cannot run or fails (its message included)."""
    try:
        process = subprocess.Popen(q.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise JournalError(
            f"cannot run {q.argv[0]} to read the journal ({exc.strerror}); install systemd's journalctl"
        ) from None
    assert process.stdout is not None and process.stderr is not None
    try:
        lines: list[str] = []
        for raw in process.stdout:
            line = _line(raw, encoding)
            if line is not None:
                lines.append(line)
            if len(lines) >= chunk_lines:
                yield Chunk("\n".join(lines) + "\n", 0)
                lines = []
        if lines:
            yield Chunk("\n".join(lines) + "\n", 0)
        error = process.stderr.read().decode("utf-8", "replace").strip()
        if process.wait() != 0:
            raise JournalError(
                f"{' '.join(q.argv[:1])} failed (exit {process.returncode}): {error or 'no message'}"
            )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def _line(raw: bytes, encoding: str) -> str | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    found = format_entry(entry, encoding) if isinstance(entry, dict) else None
    return found.text if found is not None else None
