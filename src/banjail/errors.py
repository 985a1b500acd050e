"""The error hierarchy. Every error a user can see names what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field

INTERPOLATION = "interpolation"


class BanjailError(Exception):
    """Base of every error banjail raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or doubtful) in the configuration.

    Rendered as `file:line: [section] option = value: message (fix)`, omitting what is unknown.
    """

    message: str
    file: str = ""
    line: int = 0
    section: str = ""
    option: str = ""
    value: str = ""
    fix: str = ""
    severity: str = "error"  # "error" | "warning"
    # what went wrong, for callers that treat it apart: INTERPOLATION (a bad %(...)s reference); not compared
    kind: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = self.file
        if where and self.line:
            where += f":{self.line}"
        parts = []
        if where:
            parts.append(where + ":")
        if self.section:
            parts.append(f"[{self.section}]")
        if self.option:
            parts.append(f"{self.option} = {self.value!r}:" if self.value else f"{self.option}:")
        parts.append(self.message)
        text = " ".join(parts)
        if self.fix:
            text += f" ({self.fix})"
        return text


class ConfigError(BanjailError):
    """The configuration has one or more errors; all of them are in `problems`."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class RegexError(ConfigError):
    """A failregex/ignoreregex/prefregex/datepattern does not compile."""


class SourceError(BanjailError):
    """A log source cannot be read."""


class JournalError(SourceError):
    """fail2ban-regex's systemd-journal[...] argument is wrong, or the journal cannot be read."""


class ActionError(BanjailError):
    """An action command failed."""


class ControlError(BanjailError):
    """A control-socket request is invalid or failed; the message is what the client prints."""
