"""render(): run-time values reach the shell as exact text and never as code, in every quoting context."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from banjail.actions.render import Context, Script, _tags_in_context, env_name, nested_shell_words, render

HOSTILE = [
    "$(touch {pwned})",
    "`touch {pwned}`",
    "x; touch {pwned}",
    "x | touch {pwned}",
    "x && touch {pwned} &",
    "it's '$(touch {pwned})'",
    'say "hi"; touch {pwned}; "',
    "line one\ntouch {pwned}\nline three",
    "%(known/x)s %s %d",
    "<ip> <matches> <F-USER>",
    "${{PATH}} $HOME ${{IFS}}",
    "\\\\ \\n back\\slash",
    "* ? [a-z] ~root",
    "EOF\ntouch {pwned}\nEOF",
    "# comment\ntouch {pwned}",
    "}} ${{x:-$(touch {pwned})}}",
    "tab\there\r\nCRLF",
]


def _values(text: str) -> dict[str, str]:
    return {"matches": text, "F-USER": text, "ip": "192.0.2.1"}


# Templates as action.d files write them, and what the shell prints for value V (None: V itself).
TEMPLATES = [
    ("unquoted", "printf '%s' <matches>"),
    ("double", "printf '%s' \"<matches>\""),
    ("single", "printf '%s' '<matches>'"),
    ("double, text around", "printf '%s' \"user=<F-USER> from <ip>: <matches>.\""),
    ("single, text around", "printf '%s' 'user=<F-USER>: <matches>.'"),
    ("command substitution", "x=$(printf '%s' \"<matches>\"); printf '%s' \"$x\""),
    ("backquotes", "x=`printf '%s' \"<matches>\"`; printf '%s' \"$x\""),
    ("single inside $()", "printf '%s' \"$(printf '%s' '<matches>')\""),
    ("heredoc", "cat <<EOF\n<matches>\nEOF"),
    ("heredoc, dash", "cat <<-EOF\n\t<matches>\n\tEOF"),
    ("parameter default", "printf '%s' \"${unset_var:-<matches>}\""),
    ("comment before", "# user's note: <matches>\nprintf '%s' \"<matches>\""),
]


def _expected(name: str, value: str) -> str:
    if name == "double, text around":
        return f"user={value} from 192.0.2.1: {value}."
    if name == "single, text around":
        return f"user={value}: {value}."
    if name.startswith("heredoc"):
        return value + "\n"
    if name == "command substitution" or name.startswith(("backquotes", "single inside")):
        return value.rstrip("\n")  # $(...) strips trailing newlines, as it does for any text
    return value


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("name", "template"), TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_hostile_values_arrive_exactly_and_run_nothing(
    tmp_path: Path, name: str, template: str, value: str
) -> None:
    pwned = tmp_path / "pwned"
    text = value.format(pwned=pwned)
    script = render(template, _values(text).get)
    result = subprocess.run(
        ["/bin/sh", "-c", script.text],
        env={"PATH": "/usr/bin:/bin", **script.env},
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert not pwned.exists(), script.text
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == _expected(name, text)


@pytest.mark.parametrize(
    ("template", "values", "text", "env"),
    [
        # safe values are written in literally, as upstream does
        ("ban <ip> n=<failures>", {"ip": "192.0.2.1", "failures": "3"}, "ban 192.0.2.1 n=3", {}),
        ("x <ip>", {"ip": "2001:db8::1"}, "x 2001:db8::1", {}),
        # unknown tags stay
        ("x <unknown> <ip>", {"ip": "1.2.3.4"}, "x <unknown> 1.2.3.4", {}),
        # doubtful values become references chosen by context
        ("echo <matches>", {"matches": "a;b"}, 'echo "${F2B_MATCHES}"', {"F2B_MATCHES": "a;b"}),
        ('echo "<matches>"', {"matches": "a;b"}, 'echo "${F2B_MATCHES}"', {"F2B_MATCHES": "a;b"}),
        ("echo '<matches>'", {"matches": "a;b"}, "echo ''\"${F2B_MATCHES}\"''", {"F2B_MATCHES": "a;b"}),
        ("echo '<F-USER>'", {"F-USER": "$x"}, "echo ''\"${F2B_F_USER}\"''", {"F2B_F_USER": "$x"}),
        ("cat <<E\n<matches>\nE", {"matches": "a"}, "cat <<E\n${F2B_MATCHES}\nE", {"F2B_MATCHES": "a"}),
        # a value is not scanned again for tags
        (
            "echo <matches>",
            {"matches": "<ip>", "ip": "1.2.3.4"},
            'echo "${F2B_MATCHES}"',
            {"F2B_MATCHES": "<ip>"},
        ),
        # NUL cannot travel in the environment: dropped
        ("echo <matches>", {"matches": "a\x00;b"}, 'echo "${F2B_MATCHES}"', {"F2B_MATCHES": "a;b"}),
        # <br> and <sp> are template syntax (a newline separates commands in bsd-ipfw.conf): verbatim
        ("a <br> b<sp>", {"br": "\n", "sp": " "}, "a \n b ", {}),
    ],
)
def test_render_text_and_environment(
    template: str, values: dict[str, str], text: str, env: dict[str, str]
) -> None:
    assert render(template, values.get) == Script(text, env)


@pytest.mark.parametrize(
    ("template", "contexts"),
    [
        ("a <x> '<x>' \"<x>\"", ["unquoted", "single", "double"]),
        ("\"a '<x>' b\"", ["double"]),
        ("'a \"<x>\" b'", ["single"]),
        ("\"$(echo '<x>')\"", ["single"]),
        ('"`echo <x>`"', ["unquoted"]),
        ("echo \\'<x>", ["unquoted"]),
        ('"a \\" <x>"', ["double"]),
        ("${a:-<x>} $((1 + <x>))", ["bare", "unquoted"]),
        ("# it's <x>\n<x>", ["bare", "unquoted"]),
        ("a#b <x>", ["unquoted"]),
        ("cat <<'E' | x '<x>'\nit's <x>\nE\n'<x>'", ["single", "bare", "single"]),
        ("f <<-E; g\n\tdon't <x>\n\tE\n<x>", ["bare", "unquoted"]),
    ],
)
def test_contexts(template: str, contexts: list[str]) -> None:
    found = [c.value for _, _, _, c in _tags_in_context(template)]
    assert found == contexts
    assert {c for c in Context} >= {Context(v) for v in found}


def test_env_names() -> None:
    assert [env_name(t) for t in ("matches", "F-USER", "ip-rev", "jail.banned")] == [
        "F2B_MATCHES",
        "F2B_F_USER",
        "F2B_IP_REV",
        "F2B_JAIL_BANNED",
    ]


def test_each_value_is_computed_once() -> None:
    asked: list[str] = []

    def value(tag: str) -> str:
        asked.append(tag)
        return "v"

    render("<a> <b> <a> '<a>'", value)
    assert asked == ["a", "b"]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ('eval "$x"', ["eval"]),
        ("sh -c '<matches>'", ["sh -c"]),
        ("x=1; bash -c 'y'", ["bash -c"]),
        ("printf %b 'evaluate'", []),
        ("ssh host", []),
    ],
)
def test_nested_shell_words(template: str, words: list[str]) -> None:
    assert nested_shell_words(template) == words
