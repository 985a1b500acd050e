"""Filling run-time tags (<ip>, <matches>, <F-USER>, ...) into an action.d command without shell injection.

An action.d command is a /bin/sh script written by the config author; the values of run-time tags come from
log lines an attacker can write. Upstream substitutes them into the script text (with escaping or `$var`
references that break inside single quotes). banjail never puts a doubtful value into the script text:

Invariant: a run-time value reaches the script either
  (a) literally, when it consists only of SAFE characters (letters, digits and `_.:/+@,%-`, and a space
      inside quotes), none of which the shell treats specially in that quoting context: unquoted, the value
      must be a single such word, since a space would split it into more arguments (`x /some/path`); or
  (b) as a reference to an environment variable `F2B_<TAG>` that carries the exact value. The reference text
      is chosen for the quoting context the tag stands in (see `Context`): `"${V}"` unquoted, `${V}` inside
      double quotes, here-documents, comments and `${...}`, and `'"${V}"'` inside single quotes. Each form
      is quote-balanced in every context, so even a misjudged context changes at most how the value is
      split or printed, never the structure of the script; and the shell never parses the result of an
      expansion as code.
The only way a value still becomes code is a template that feeds text to a second shell (`eval`, `sh -c`);
no stock action does that, and `nested_shell_words` lets callers warn about such templates.
Values are never scanned for tags again (a match containing `<ip>` stays as it is).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum

TAG = re.compile(r"<([^ \t\n<>]+)>")
SAFE_VALUE = re.compile(r"[A-Za-z0-9 _.:/+@,%-]*\Z")  # inside quotes
SAFE_WORD = re.compile(r"[A-Za-z0-9_.:/+@,%-]*\Z")  # unquoted: one word
_NESTED_SHELL = re.compile(r"(?:^|[\s;&|(`])(eval|(?:ba|da|z|k)?sh\s+-c|su\s+-c)\b")
_WORD_START = frozenset(" \t\n;&|()")
# Run-time tags whose values an attacker can write (besides every <F-*>).
FROM_LOGS = frozenset({"matches", "ipmatches", "ipjailmatches", "fid", "ip-host", "raw-ticket"})
VERBATIM_TAGS = frozenset({"br", "sp"})  # upstream's constants: a newline and a space


class Context(Enum):
    """The quoting context a tag stands in."""

    UNQUOTED = "unquoted"
    DOUBLE = "double"  # inside "..."
    SINGLE = "single"  # inside '...'
    BARE = "bare"  # comment, here-document body, ${...}: a plain ${V} is right (or harmless)


_REFERENCE = {
    Context.UNQUOTED: '"${{{}}}"',
    Context.DOUBLE: "${{{}}}",
    Context.SINGLE: "'\"${{{}}}\"'",
    Context.BARE: "${{{}}}",
}


@dataclass(frozen=True, slots=True)
class Script:
    """A shell script ready to run with `/bin/sh -c text`, plus the environment variables it references."""

    text: str
    env: dict[str, str] = field(default_factory=dict)


def used_tags(text: str) -> frozenset[str]:
    """The names of every <tag> in `text` (so callers compute only the values a command uses); kept per text,
    as _plan: an action asks it for the same few command texts at every ban."""
    return _used_tags(text)


@functools.lru_cache(maxsize=256)
def _used_tags(text: str) -> frozenset[str]:
    return frozenset(m.group(1) for m in TAG.finditer(text))


def nested_shell_words(text: str) -> list[str]:
    """Words in `text` that make a second shell parse text (eval, sh -c, su -c): run-time values passed
    through them can become code again, so a template using them with log values deserves a warning."""
    return [m.group(1) for m in _NESTED_SHELL.finditer(text)]


def nested_shell_warning(text: str) -> str:
    """A warning when `text` hands log-derived values to a second shell (quoting protects the first shell
    only), else ""."""
    logged = sorted(t for t in used_tags(text) if t in FROM_LOGS or t.startswith("F-"))
    words = sorted(set(nested_shell_words(text)))
    if not (logged and words):
        return ""
    tags = ", ".join(f"<{t}>" for t in logged)
    return f"passes {tags} to a nested shell ({', '.join(words)}): those values may be run as code"


def env_name(tag: str) -> str:
    """The environment variable that carries tag's value: `F2B_` and the tag upper-cased, `[^A-Z0-9]` as `_`."""
    return "F2B_" + re.sub(r"[^A-Z0-9]", "_", tag.upper())


def render(
    text: str, value: Callable[[str], str | None], *, verbatim: frozenset[str] = VERBATIM_TAGS
) -> Script:
    """Substitute every <tag> of `text` for which `value(tag)` is not None, keeping the invariant above.

    `value` is asked once per distinct tag; tags it does not know (None) stay in place as upstream leaves them.
    Tags in `verbatim` are template syntax, not data (<br> separates commands in some action.d files): their
    values go in as they are.
    """
    if "<" not in text:
        return Script(text)
    pieces, tail = _plan(text)
    known: dict[str, str | None] = {}
    names: dict[str, str] = {}  # tag -> env name, unique even when two tags map to one name
    env: dict[str, str] = {}
    out: list[str] = []
    for before, tag, context in pieces:
        out.append(before)
        if tag not in known:
            known[tag] = value(tag)
        found = known[tag]
        if found is None:
            out.append(f"<{tag}>")  # the tag's own text (TAG matched exactly this)
            continue
        # No shell variable or argument can hold NUL: drop it rather than fail the whole command.
        if "\x00" in found:
            found = found.replace("\x00", "")
        if tag in verbatim or _literal(context, found):
            out.append(found)
            continue
        name = names.get(tag)
        if name is None:
            name = env_name(tag)
            while name in env and env[name] != found:
                name += "_"
            names[tag] = name
            env[name] = found
        out.append(_REFERENCE[context].format(name))
    out.append(tail)
    return Script("".join(out), env)


@functools.lru_cache(maxsize=256)
def _plan(text: str) -> tuple[tuple[tuple[str, str, Context], ...], str]:
    """`text` split once at its tags: (the text before each tag, the tag, its context) and the text after the
    last one, so that rendering a command at each ban is a join of its pieces and their values."""
    pieces = []
    last = 0
    for start, end, tag, context in _tags_in_context(text):
        pieces.append((text[last:start], tag, context))
        last = end
    return tuple(pieces), text[last:]


def _literal(context: Context, value: str) -> bool:
    """Whether `value` can stand in the script text as it is, in `context` (see the invariant)."""
    if context is Context.UNQUOTED:
        return SAFE_WORD.match(value) is not None
    return context is not Context.BARE and SAFE_VALUE.match(value) is not None


# -- the shell lexer -------------------------------------------------------------------------------------------
# A small model of POSIX sh quoting, enough to know the context of each tag. Frames: "top" (unquoted, also
# inside $(...) and `...`), "sq", "dq", "param" (${...}). Here-documents and comments are tracked in "top".


@dataclass(slots=True)
class _Frame:
    kind: str  # top | sq | dq | param
    closer: str = ""  # what ends this frame: ")" for $(, "`" for backquotes, "}" for ${, "" for the script
    depth: int = 0  # open plain parentheses inside a $( frame


def _tags_in_context(text: str) -> Iterator[tuple[int, int, str, Context]]:
    stack = [_Frame("top")]
    heredocs: list[tuple[str, bool]] = []  # pending (delimiter, strip tabs) waiting for the next newline
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        frame = stack[-1]
        if ch == "<":
            m = TAG.match(text, i)
            if m is not None:
                yield i, m.end(), m.group(1), _context(frame)
                i = m.end()
                continue
        kind = frame.kind
        if kind == "sq":
            if ch == "'":
                stack.pop()
            i += 1
            continue
        if ch == "\\":
            i += 2
            continue
        if kind == "dq" and ch == '"':
            stack.pop()
            i += 1
            continue
        if ch == "$" and text.startswith("$(", i):
            stack.append(_Frame("top", ")"))
            i += 2
            continue
        if ch == "$" and text.startswith("${", i):
            stack.append(_Frame("param", "}"))
            i += 2
            continue
        if ch == "`":
            if frame.closer == "`":
                stack.pop()
            else:
                stack.append(_Frame("top", "`"))
            i += 1
            continue
        if kind == "dq":
            i += 1
            continue
        if kind == "param" and ch == "}":
            stack.pop()
            i += 1
            continue
        # top or param: quotes, comments, parentheses, here-documents
        if ch == "'":
            stack.append(_Frame("sq"))
        elif ch == '"':
            stack.append(_Frame("dq"))
        elif kind == "top" and ch == "#" and (i == 0 or text[i - 1] in _WORD_START):
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield from ((s, e, t, Context.BARE) for s, e, t in _plain_tags(text, i, end))
            i = end
            continue
        elif kind == "top" and ch == "(" and frame.closer == ")":
            frame.depth += 1
        elif kind == "top" and ch == ")" and frame.closer == ")":
            if frame.depth:
                frame.depth -= 1
            else:
                stack.pop()
        elif kind == "top" and text.startswith("<<", i):
            m = _HEREDOC.match(text, i)
            if m is not None:
                word = m.group("word")
                delimiter = word.replace('"', "").replace("'", "").replace("\\", "")
                heredocs.append((delimiter, bool(m.group("dash"))))
                i = m.end()
                continue
        elif ch == "\n" and heredocs:
            i += 1
            for delimiter, strip in heredocs:
                end = _heredoc_end(text, i, delimiter, strip)
                yield from ((s, e, t, Context.BARE) for s, e, t in _plain_tags(text, i, end))
                i = end
            heredocs.clear()
            continue
        i += 1


_HEREDOC = re.compile(r"<<(?P<dash>-)?[ \t]*(?P<word>'[^']*'|\"[^\"]*\"|[^\s;&|<>()]+)")


def _heredoc_end(text: str, start: int, delimiter: str, strip: bool) -> int:
    """Index just after the delimiter line of a here-document whose body starts at `start` (or the end)."""
    pos = start
    while pos < len(text):
        newline = text.find("\n", pos)
        line_end = len(text) if newline < 0 else newline
        line = text[pos:line_end]
        if (line.lstrip("\t") if strip else line) == delimiter:
            return line_end
        pos = line_end + 1
    return len(text)


def _plain_tags(text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    for m in TAG.finditer(text, start, end):
        yield m.start(), m.end(), m.group(1)


def _context(frame: _Frame) -> Context:
    if frame.kind == "sq":
        return Context.SINGLE
    if frame.kind == "dq":
        return Context.DOUBLE
    if frame.kind == "param":
        return Context.BARE
    return Context.UNQUOTED
