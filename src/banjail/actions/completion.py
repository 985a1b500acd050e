"""Completion marks: a side action's command says itself, in a file, that it ran to its end.

A side action (mail, whois, a report: an effect banjail cannot check or undo) must get each ban exactly once,
across a kill -9 of the server. The server's own record of a run comes after the command's effect; a kill between
the two cannot be told from a kill before the command, unless the command leaves a trace of its own. So:

    begin: the server appends the run's intent, one JSON line (token, jail, fid, timeofban, action, op, started),
           to its journal <dir>/<id>.journal before it spawns the command: durable against a kill of the process
           (no fsync: only a power loss loses it, as it loses the database's last commits)
    run:   the script runs behind `trap '... >> "$BANJAIL_RUN"' EXIT`: the shell appends "<token> <status>" to the
           journal when it ends (also after a kill of the server: the command is in its own session)
    end:   the server records the run (banjail.store.actionruns, in its rounds); a journal goes once every run it
           names is committed and the server writes a newer one (banjail.daemon.completions)

Why a journal and not a file per run: creating a file costs the server 20-500 us of CPU on ext4 (measured on the
bench machine), appending a line to an open one under 1 us, and a flood bans thousands of addresses. Appends
with O_APPEND of one short line are single writes: the server's intents and the shells' statuses never
interleave within a line. A line cut by a kill (the server's intent half written) is no whole mark: its command
never started.

At the next start (banjail.daemon.completions) a mark left behind says which runs ended (status appended: record
it, never run it again), which still run (a process carrying BANJAIL_MARK=<token> lives: wait for it, bounded by
the action's timeout) and which were cut short (no status, no process: run again). The last case is the one that
stays ambiguous: the command was killed itself in the middle of its effects (a mail accepted by the MTA, then a
kill before the shell's trap); banjail runs it again (a mail may come twice, none is lost). A mark file of the
earlier format (one run per file, its status as a bare number) is read the same way, with the token "".

Values never enter the script: the journal's path and the token reach the shell by the environment only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Protocol

from banjail.actions.render import Script
from banjail.model import Ban

ENV = "BANJAIL_RUN"  # the journal's path
MARK_ENV = "BANJAIL_MARK"  # the run's token in it
INPUT = ".input"  # the suffix of a program's input file beside the journal: <dir>/<token>.input
JOURNAL = ".journal"
# The status the shell exits with, appended to the journal (EXIT traps run on `exit`, at the script's end, and
# after a failing command; not when the shell itself is killed by a signal). "$?" is expanded when the trap runs.
TRAP = f'trap \'printf "%s %s\\n" "${MARK_ENV}" "$?" >> "${ENV}"\' EXIT\n'


@dataclass(frozen=True, slots=True)
class Mark:
    """One run's mark: the journal it is in, its token there ("" in a mark file of the earlier format) and the run
    it names (a ban as the store names it: jail, fid, timeofban)."""

    path: str
    token: str
    jail: str
    fid: str
    timeofban: int
    action: str
    op: str
    started: float
    # The run's program may have an input file beside the journal (`argv`); False for a script (`script`), whose
    # end then costs no unlink of a file that was never made. A mark read back from a journal says True.
    feeds: bool = True

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.jail, self.fid, self.timeofban, self.action)

    @property
    def carried(self) -> str:
        """The environment entry the run's processes carry (how `running` finds them)."""
        return f"{MARK_ENV}={self.token}" if self.token else f"{ENV}={self.path}"

    @property
    def input(self) -> str:
        """Where a program run by argv finds its input (see `argv`)."""
        if not self.token:
            return self.path + INPUT
        return os.path.join(os.path.dirname(self.path), self.token + INPUT)


@dataclass(frozen=True, slots=True)
class Left:
    """A mark found at start: `status` is the exit status the command appended, None when it did not end."""

    mark: Mark
    status: int | None


class Completion(Protocol):
    """What an action calls around one ban's command (banjail.daemon.completions implements it)."""

    def begin(
        self, jail: str, action: str, op: str, ban: Ban, started: float, *, feeds: bool = True
    ) -> Mark | None:
        """Write the mark before the command starts; None when no mark could be written (run unmarked).
        feeds False: the run is a script (`script`), with no input file beside the journal."""
        ...

    def ended(self, mark: Mark, status: int | None, error: str) -> None:
        """The command ended (status None: timed out): record the run, then remove the mark."""
        ...


class Journal:
    """One server's append-only file of marks (open for appends until closed)."""

    def __init__(self, directory: Path) -> None:
        """Create a new journal in `directory` (raises OSError when it cannot)."""
        self.path = str(directory / f"{os.urandom(8).hex()}{JOURNAL}")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self.taken = 0  # marks written

    def write(
        self, jail: str, action: str, op: str, ban: Ban, started: float, *, feeds: bool = True
    ) -> Mark:
        """Append a new mark (raises OSError when it cannot)."""
        if self._fd < 0:
            raise OSError(f"journal {self.path} is closed")
        mark = Mark(self.path, os.urandom(8).hex(), jail, ban.fid, round(ban.at), action, op, started, feeds)
        data = (intent_line(mark) + "\n").encode()
        if os.write(self._fd, data) != len(data):  # a regular file takes a short line whole, or the disk is full
            raise OSError(f"journal {self.path}: short write")
        self.taken += 1
        return mark

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def intent_line(mark: Mark) -> str:
    """The journal line of `mark`'s intent: json.dumps of {token, jail, fid, timeofban, action, op, started},
    character for character, written directly (json.dumps walks its encoder for a dict at every ban)."""
    started = mark.started
    if not math.isfinite(started) or type(started) is not float or type(mark.timeofban) is not int:
        return json.dumps(
            {
                "token": mark.token,
                "jail": mark.jail,
                "fid": mark.fid,
                "timeofban": mark.timeofban,
                "action": mark.action,
                "op": mark.op,
                "started": started,
            }
        )
    return (
        f'{{"token": {_string(mark.token)}, "jail": {_string(mark.jail)}, "fid": {_string(mark.fid)}, '
        f'"timeofban": {mark.timeofban!r}, "action": {_string(mark.action)}, "op": {_string(mark.op)}, '
        f'"started": {started!r}}}'
    )


_string = encode_basestring_ascii  # json.dumps's own quoting of a str (ensure_ascii, its default)


def write(directory: Path, jail: str, action: str, op: str, ban: Ban, started: float) -> Mark:
    """A mark in a journal of its own in `directory` (raises OSError when it cannot)."""
    journal = Journal(directory)
    try:
        return journal.write(jail, action, op, ban, started)
    finally:
        journal.close()


def script(mark: Mark, body: Script) -> Script:
    """`body` behind the trap that appends its exit status to the mark's journal."""
    return Script(TRAP + body.text, {**body.env, ENV: mark.path, MARK_ENV: mark.token})


def argv(mark: Mark, program: tuple[str, ...], stdin: bytes) -> tuple[tuple[str, ...], dict[str, str]]:
    """A program run by argv behind the same trap (argv and the environment to add): `sh -c TRAP"$@"`. Its
    input is written to a file beside the journal first, never fed through a pipe: a kill of the server in the
    middle of a pipe's feed would end the program's input early (sendmail then sends a cut message)."""
    with open(mark.input, "wb", opener=_private) as out:
        out.write(stdin)
    return ("/bin/sh", "-c", TRAP + '"$@" < "$BANJAIL_INPUT"', "sh", *program), {
        ENV: mark.path,
        MARK_ENV: mark.token,
        "BANJAIL_INPUT": mark.input,
    }


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def finish(mark: Mark, status: int) -> None:
    """Append `status` to the mark from the server itself (an effect made in-process, e.g. an SMTP session)."""
    line = f"{mark.token} {status}\n" if mark.token else f"{status}\n"
    with contextlib.suppress(OSError), open(mark.path, "a") as out:
        out.write(line)


def remove_input(mark: Mark) -> None:
    """Remove the input file of the mark's program, if it has one."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(mark.input)


def read(path: Path) -> list[Left]:
    """The whole marks in the journal (or earlier-format mark file) at `path`, in order, with their statuses (the
    first one each got). A line that is no whole mark is skipped: the server was killed while it wrote the
    intent, before the command could start."""
    try:
        text = path.read_text()
    except OSError:
        return []
    marks: dict[str, Mark] = {}
    statuses: dict[str, int] = {}
    for line in text.split("\n"):
        if line.startswith("{"):
            mark = _intent(str(path), line)
            if mark is not None and mark.token not in marks:
                marks[mark.token] = mark
            continue
        token, _, status = line.strip().rpartition(" ")
        if status.lstrip("-").isdigit() and token not in statuses:
            statuses[token] = int(status)
    return [Left(mark, statuses.get(token)) for token, mark in marks.items()]


def _intent(path: str, line: str) -> Mark | None:
    try:
        head = json.loads(line)
        return Mark(
            path,
            str(head.get("token", "")),
            str(head["jail"]),
            str(head["fid"]),
            int(head["timeofban"]),
            str(head["action"]),
            str(head["op"]),
            float(head["started"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def status_of(mark: Mark) -> Left | None:
    """The mark as its journal holds it now (None when the journal or the mark is gone)."""
    return next((left for left in read(Path(mark.path)) if left.mark.token == mark.token), None)


def leftovers(directory: Path) -> Iterator[tuple[Path, list[Left]]]:
    """Every journal (and earlier-format mark file) in `directory` with the marks it holds. Input files are not
    listed: they go with their marks."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if name.endswith(INPUT):
            continue
        path = directory / name
        yield path, read(path)


def running(carried: set[str], proc: Path = Path("/proc")) -> set[str]:
    """Which of the environment entries (Mark.carried) a live process still carries (the command, or a program it
    started: they inherit it). A token is unique, so a reused pid cannot pass for the command."""
    if not carried:
        return set()
    wanted = {item.encode(): item for item in carried}
    found: set[str] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone meanwhile, or a zombie
        for item in env.split(b"\0"):
            hit = wanted.get(item)
            if hit is not None:
                found.add(hit)
    return found
