"""Completion marks: a side action's command says itself, in a file, that it ran to its end.

A side action (mail, whois, a report: an effect banjail cannot check or undo) must get each ban exactly once,
across a kill -9 of the server. The server's own record of a run comes after the command's effect; a kill between
the two cannot be told from a kill before the command, unless the command leaves a trace of its own. So:

    begin: the server writes the mark file <dir>/<token> (one JSON line: jail, fid, timeofban, action, op,
           started) before it spawns the command: the intent, durable against a kill of the process (no fsync:
           only a power loss loses it, as it loses the database's last commits)
    run:   the script runs behind `trap '... >> "$BANJAIL_RUN"' EXIT`: the shell appends the command's exit
           status to the mark when it ends (also after a kill of the server: the command is in its own session)
    end:   the server records the run (banjail.store.actionruns, in its rounds) and removes the mark once that
           record is committed

At the next start (banjail.daemon.completions) a mark left behind says which runs ended (status appended: record
it, never run it again), which still run (a process carrying BANJAIL_RUN=<mark> lives: wait for it, bounded by the
action's timeout) and which were cut short (no status, no process: run again). The last case is the one that stays
ambiguous: the command was killed itself in the middle of its effects (a mail accepted by the MTA, then a kill
before the shell's trap); banjail runs it again (a mail may come twice, none is lost).

Values never enter the script: the mark's path reaches the shell by the environment only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from banjail.actions.render import Script
from banjail.model import Ban

ENV = "BANJAIL_RUN"
INPUT = ".input"  # the suffix of a program's input file beside its mark
# The status the shell exits with, appended to the mark (EXIT traps run on `exit`, at the script's end, and after
# a failing command; not when the shell itself is killed by a signal).
TRAP = f'trap \'printf "%s\\n" "$?" >> "${ENV}"\' EXIT\n'


@dataclass(frozen=True, slots=True)
class Mark:
    """One run's mark file and the run it names (a ban as the store names it: jail, fid, timeofban)."""

    path: str
    jail: str
    fid: str
    timeofban: int
    action: str
    op: str
    started: float

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.jail, self.fid, self.timeofban, self.action)


@dataclass(frozen=True, slots=True)
class Left:
    """A mark found at start: `status` is the exit status the command appended, None when it did not end."""

    mark: Mark
    status: int | None


class Completion(Protocol):
    """What an action calls around one ban's command (banjail.daemon.completions implements it)."""

    def begin(self, jail: str, action: str, op: str, ban: Ban, started: float) -> Mark | None:
        """Write the mark before the command starts; None when no mark could be written (run unmarked)."""
        ...

    def ended(self, mark: Mark, status: int | None, error: str) -> None:
        """The command ended (status None: timed out): record the run, then remove the mark."""
        ...


def write(directory: Path, jail: str, action: str, op: str, ban: Ban, started: float) -> Mark:
    """Create a new mark file in `directory` (raises OSError when it cannot)."""
    path = directory / secrets.token_hex(8)
    mark = Mark(str(path), jail, ban.fid, round(ban.at), action, op, started)
    line = json.dumps(
        {
            "jail": jail,
            "fid": ban.fid,
            "timeofban": mark.timeofban,
            "action": action,
            "op": op,
            "started": started,
        }
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    return mark


def script(mark: Mark, body: Script) -> Script:
    """`body` behind the trap that appends its exit status to `mark`."""
    return replace(body, text=TRAP + body.text, env={**body.env, ENV: mark.path})


def argv(mark: Mark, program: tuple[str, ...], stdin: bytes) -> tuple[tuple[str, ...], dict[str, str]]:
    """A program run by argv behind the same trap (argv and the environment to add): `sh -c TRAP"$@"`. Its
    input is written to a file beside the mark first, never fed through a pipe: a kill of the server in the
    middle of a pipe's feed would end the program's input early (sendmail then sends a cut message)."""
    with open(f"{mark.path}{INPUT}", "wb", opener=_private) as out:
        out.write(stdin)
    return ("/bin/sh", "-c", TRAP + '"$@" < "$BANJAIL_INPUT"', "sh", *program), {
        ENV: mark.path,
        "BANJAIL_INPUT": mark.path + INPUT,
    }


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def finish(mark: Mark, status: int) -> None:
    """Append `status` to the mark from the server itself (an effect made in-process, e.g. an SMTP session)."""
    with contextlib.suppress(OSError), open(mark.path, "a") as out:
        out.write(f"{status}\n")


def remove(mark: Mark) -> None:
    """Remove the mark (and its input file, if any)."""
    for path in (mark.path, mark.path + INPUT):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def read(path: Path) -> Left | None:
    """The mark at `path`; None when it is not one (unreadable or half written: the server was killed while it
    wrote the intent, before the command could start)."""
    try:
        text = path.read_text()
    except OSError:
        return None
    lines = text.split("\n")
    try:
        head = json.loads(lines[0])
        mark = Mark(
            str(path),
            str(head["jail"]),
            str(head["fid"]),
            int(head["timeofban"]),
            str(head["action"]),
            str(head["op"]),
            float(head["started"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    status = next((int(s) for s in lines[1:] if s.strip().lstrip("-").isdigit()), None)
    return Left(mark, status)


def leftovers(directory: Path) -> Iterator[tuple[Path, Left | None]]:
    """Every mark file in `directory` with the mark it holds (None: not a whole mark). Input files are not
    listed: they go with their mark."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if name.endswith(INPUT):
            continue
        path = directory / name
        yield path, read(path)


def running(marks: set[str], proc: Path = Path("/proc")) -> set[str]:
    """Which of the mark paths a live process still carries in its environment (the command, or a program it
    started: they inherit BANJAIL_RUN). A token is unique, so a reused pid cannot pass for the command."""
    if not marks:
        return set()
    wanted = {f"{ENV}={m}".encode(): m for m in marks}
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
