"""render() against a real /bin/sh, with values generated from the shell grammar (issue 14 item 7).

Every value an attacker can put in a log group (<F-USER> here) must reach the command as exactly one word with
exactly its text, whatever quoting context the tag stands in, and never run anything. The values are built from
the grammar's pieces: every metacharacter alone and inside a word, every expansion and word form the shell acts on
(`$(...)`, backquotes, `${...}`, `$((...))`, `~`, `=` and assignment prefixes, globs, braces, here-document and
comment starters, quotes, backslashes, blanks and newlines), then hypothesis combines them freely. The contexts
are the places an action.d author writes a tag, the issue's `touch <out>/t-<F-USER>` among them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banjail.actions.render import render

METACHARACTERS = list(" \t\n\r|&;()<>$`\\\"'*?[]#~=%!{}^,:-+./@")
CONSTRUCTS = [
    "$(touch {canary})",
    "`touch {canary}`",
    "$(",
    "`",
    "${{x:=1}}",
    "${{IFS}}",
    "$((1+1))",
    "$HOME",
    "$1",
    "$@",
    "~",
    "~root",
    "~/x",
    "=x",
    "x=y",
    "IFS=x",
    "*",
    "?",
    "[a-z]",
    "{{a,b}}",
    "'",
    '"',
    "\\",
    "\\\n",
    "a b",
    "x /some/path",
    "-n",
    "!",
    "#x",
    "<<E",
    "E\n",
    "&",
    "|",
    ";",
    "&&",
    "||",
    ";;",
    "<ip>",
    "%(x)s",
    "\x00",
]
WORDS = ["a", "b1", "root"]


def _value(piece: str, canary: Path) -> str:
    return piece.replace("{canary}", str(canary)).replace("{{", "{").replace("}}", "}")


# (name, template, expected output for value V): the tag is always <F-USER>.
CONTEXTS: list[tuple[str, str, Callable[[str], str]]] = [
    ("unquoted argument", "printf '[%s]' <F-USER>", lambda v: f"[{v}]"),
    ("inside a word", "printf '[%s]' pre-<F-USER>-post", lambda v: f"[pre-{v}-post]"),
    ("two in one word", "printf '[%s]' <F-USER><F-USER>", lambda v: f"[{v}{v}]"),
    ("double quotes", "printf '[%s]' \"a <F-USER> b\"", lambda v: f"[a {v} b]"),
    ("single quotes", "printf '[%s]' 'a <F-USER> b'", lambda v: f"[a {v} b]"),
    ("command substitution", "printf '[%s]' \"$(printf '%s' <F-USER>)\"", lambda v: f"[{v.rstrip(chr(10))}]"),
    ("backquotes", "x=`printf '%s' <F-USER>`; printf '[%s]' \"$x\"", lambda v: f"[{v.rstrip(chr(10))}]"),
    ("assignment", "x=<F-USER>; printf '[%s]' \"$x\"", lambda v: f"[{v}]"),
    ("parameter default", "printf '[%s]' \"${unset_var:-<F-USER>}\"", lambda v: f"[{v}]"),
    ("here-document", "cat <<E\n[<F-USER>]\nE", lambda v: f"[{v}]\n"),
    ("comment", "# <F-USER>\nprintf '[%s]' done", lambda v: "[done]"),
    ("after a pipe", "printf '%s' <F-USER> | cat; printf '|'", lambda v: f"{v}|"),
]
FILE_CONTEXT = "touch {out}/t-<F-USER>"  # the issue's template: one file, named exactly


def _run(template: str, value: str, tmp: Path) -> tuple[subprocess.CompletedProcess[bytes], str]:
    script = render(template, {"F-USER": value}.get)
    done = subprocess.run(
        ["/bin/sh", "-c", script.text],
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **script.env},
        cwd=tmp,
        capture_output=True,
        timeout=10,
        check=False,
    )
    return done, script.text


def _check(template: str, expected: Callable[[str], str], value: str, tmp: Path, canary: Path) -> None:
    done, text = _run(template, value, tmp)
    sent = value.replace("\x00", "")  # no argument can carry NUL: render drops it
    assert not canary.exists(), text
    assert done.returncode == 0, (text, done.stderr)
    assert done.stdout.decode("utf-8", "surrogateescape") == expected(sent), text
    assert sorted(os.listdir(tmp)) == [], text  # nothing created (no redirection, no glob side effect)


def _check_file(value: str, tmp: Path, canary: Path) -> None:
    out = tmp / "out"
    out.mkdir()
    try:
        done, text = _run(FILE_CONTEXT.format(out=out), value, tmp)
        name = "t-" + value.replace("\x00", "")
        assert not canary.exists(), text
        if "/" in name:
            assert sorted(os.listdir(out)) == [], text  # a subdirectory that does not exist: touch fails
        else:
            assert (done.returncode, sorted(os.listdir(out))) == (0, [name]), text
        assert sorted(os.listdir(tmp)) == ["out"], text
    finally:
        for found in out.iterdir():
            found.unlink()
        out.rmdir()


def grammar_values(canary: Path) -> list[str]:
    """Each metacharacter and construct alone and between words."""
    pieces = METACHARACTERS + CONSTRUCTS
    values = []
    for piece in pieces:
        text = _value(piece, canary)
        values += [text, f"a {text}b"]
    return list(dict.fromkeys(values))


GRAMMAR_SIZE = len(grammar_values(Path("/c"))) * (len(CONTEXTS) + 1)


@pytest.mark.parametrize(("name", "template", "expected"), CONTEXTS, ids=[c[0] for c in CONTEXTS])
def test_every_grammar_piece_arrives_as_one_exact_word(
    tmp_path: Path, name: str, template: str, expected: Callable[[str], str]
) -> None:
    work, canary = tmp_path / "work", tmp_path / "canary"
    work.mkdir()
    for value in grammar_values(canary):
        _check(template, expected, value, work, canary)


def test_the_issues_touch_makes_one_file_named_exactly(tmp_path: Path) -> None:
    work, canary = tmp_path / "work", tmp_path / "canary"
    work.mkdir()
    for value in grammar_values(canary):
        _check_file(value, work, canary)
    assert not Path("/some/path").exists()


_PIECES = st.sampled_from(METACHARACTERS + CONSTRUCTS + WORDS)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    context=st.sampled_from(range(len(CONTEXTS) + 1)),
    pieces=st.lists(_PIECES, max_size=8),
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
    ),
)
def test_any_combination_arrives_exactly_and_runs_nothing(
    tmp_path: Path, context: int, pieces: list[str], text: str
) -> None:
    work, canary = tmp_path / "hyp-work", tmp_path / "hyp-canary"
    work.mkdir(exist_ok=True)
    value = _value("".join(pieces), canary) + text
    if context == len(CONTEXTS):
        if len(value.encode()) < 200:
            _check_file(value, work, canary)
        return
    _, template, expected = CONTEXTS[context]
    _check(template, expected, value, work, canary)
