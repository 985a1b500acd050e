"""The C --json writer (banjail.cli._jsonline) against the reference (banjail.cli.failures.json_line): the same
str for every failure, generated, and the same bytes through the installed command."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.cli import failures as failures_module
from banjail.cli.failures import SET_GROUPS, json_line, json_lines, json_writer
from banjail.filter.outcome import MATCHED, LineOutcome
from banjail.model import Failure

_jsonline = pytest.importorskip("banjail.cli._jsonline")

REGEX = str(Path(sys.executable).parent / "fail2ban-regex")

# Every code point, surrogates included (a literal log argument decoded with surrogateescape carries them),
# weighted towards the characters json escapes or that change the str's kind.
_SPECIAL = st.sampled_from(['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\x80", "\xff"])
_CHAR = st.one_of(
    st.characters(max_codepoint=0x7F),
    _SPECIAL,
    st.characters(min_codepoint=0x80, max_codepoint=0xFF),
    st.characters(blacklist_categories=()),  # any code point, lone surrogates too
)
SHORT = st.text(_CHAR, max_size=40)
# huge texts are a short one repeated (drawing thousands of characters one by one is slow)
TEXT = SHORT | st.tuples(SHORT, st.integers(50, 500)).map(lambda t: t[0] * t[1])
KEYS = st.sampled_from(["user", "users", "ip4", "ip6", "mlfid", "fid", "alt_user", "host", "é", '"k\\'])
TIME = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1e16, 1e-7, 1796583900.25, 2.0**63])
    | st.integers(min_value=-(2**70), max_value=2**70)
)
# Types the matcher never makes, which the C writer hands back to the reference.
ODD = st.sampled_from([None, 7, 1.5, True, ("t",)])


@st.composite
def failures(draw: st.DrawFn) -> Failure:
    odd = draw(st.integers(0, 9)) == 0
    value = (TEXT | ODD) if odd else TEXT
    pairs = draw(st.lists(st.tuples(KEYS, value), max_size=12))
    names = draw(st.lists(SHORT, max_size=4) | st.integers(0, 400).map(lambda n: [f"u{i}" for i in range(n)]))
    users = [("users", u) for u in names]
    at = draw(st.integers(0, len(pairs)))
    groups: Any = tuple(pairs[:at] + users + pairs[at:])
    lines: Any = tuple(draw(st.lists(TEXT, max_size=4)))
    if odd and draw(st.booleans()):
        lines = list(lines)
    return Failure(
        fid=draw(TEXT | ODD) if odd else draw(TEXT),
        ip=draw(st.none() | TEXT),
        time=draw(TIME),
        lines=lines,
        groups=groups,
        lineno=draw(st.integers(0, 2**80) | (st.just(True) if odd else st.integers(0, 10))),
        regex_index=draw(st.integers(-1, 30)),
    )


def _well_typed(f: Failure) -> bool:
    texts = [f.fid, *f.lines, *(k for k, _ in f.groups), *(v for _, v in f.groups)]
    return (
        all(type(t) is str for t in texts)
        and type(f.lines) is tuple
        and (f.ip is None or type(f.ip) is str)
        and type(f.lineno) is int
        and type(f.time) in (int, float)
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(failures(), min_size=0, max_size=5), st.lists(st.integers(0, 3), min_size=0, max_size=5))
def test_the_c_writer_writes_the_reference_text(generated: list[Failure], shape: list[int]) -> None:
    expected = [json_line(f) for f in generated]
    write = json_writer()
    assert [write(f) for f in generated] == expected
    for f, text in zip(generated, expected, strict=True):
        if _well_typed(f):  # the C writer itself wrote it, not the fallback
            assert _jsonline.encode(f, SET_GROUPS) == text
    # the same failures spread over outcomes of 0-3 failures each, some outcomes without any
    outcomes, rest = [], list(generated)
    for n in shape:
        outcomes.append(LineOutcome(1, "l", MATCHED, failures=tuple(rest[:n])))
        rest = rest[n:]
    outcomes.append(LineOutcome(2, "l", MATCHED, failures=tuple(rest)))
    assert json_lines(outcomes) == "\n".join(expected)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (
            Failure("a", None, 5.0, ("x",), (("users", "b"), ("user", "u"), ("users", "a"), ("user", "v"))),
            '{"line": 0, "id": "a", "ip": null, "time": 5.0, "groups": {"users": ["b", "a"], "user": "v"}, '
            '"matches": ["x"]}',
        ),
        (
            Failure('q"\\\x01\x7f\u2028\U0001f600', "ip", math.inf, (), (), 10**20),
            '{"line": 100000000000000000000, "id": "q\\"\\\\\\u0001\x7f\u2028\U0001f600", "ip": "ip", '
            '"time": Infinity, "groups": {}, "matches": []}',
        ),
        (
            Failure("\udcff", "1", -0.0, ("\t\n\r\b\f",), (("users", "é"),)),
            '{"line": 0, "id": "\udcff", "ip": "1", "time": -0.0, "groups": {"users": ["é"]}, '
            '"matches": ["\\t\\n\\r\\b\\f"]}',
        ),
    ],
)
def test_cases(failure: Failure, expected: str) -> None:
    assert json_line(failure) == expected
    assert _jsonline.encode(failure, SET_GROUPS) == expected


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (Failure("a", None, 1.0, ("x",), lineno=True), "line"),
        (Failure("a", None, "1", ("x",)), "time"),  # type: ignore[arg-type]
        (Failure("a", None, 1.0, ["x"], (("u", None),)), "a group"),  # type: ignore[arg-type]
        (Failure("a", 7, 1.0, ("x",)), "ip"),  # type: ignore[arg-type]
        (Failure("a", None, 1.0, ("x", 1)), "a line"),  # type: ignore[arg-type]
    ],
)
def test_the_c_writer_refuses_what_it_does_not_write(failure: Failure, message: str) -> None:
    with pytest.raises(TypeError, match=f"_jsonline: {message} is not of a type it writes"):
        _jsonline.encode(failure, SET_GROUPS)
    assert json_writer()(failure) == json_line(failure)


def test_without_the_extension_the_reference_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    f = Failure("a", "1.2.3.4", 1.0, ("x", "y"), (("users", "u"),), 3)
    monkeypatch.setattr(failures_module, "_jsonline", None)
    assert json_writer() is json_line
    assert json_lines([LineOutcome(3, "y", MATCHED, failures=(f, f))]) == f"{json_line(f)}\n{json_line(f)}"


# A log whose failures carry what json escapes: quotes, backslashes, controls, non-ASCII in the user names.
_USERS = ['ro"ot', "back\\slash", "tab\tuser", "\x01ctl", "jos\xe9", "\u2028sep", "\U0001f600", "x" * 300]


def _log(path: Path) -> Path:
    lines = []
    for i, user in enumerate(_USERS * 3):
        pid = 1000 + i % 5
        ip = f"192.0.2.{i % 7 + 1}"
        lines.append(
            f"Dec  6 11:57:{i % 60:02d} web1 sshd[{pid}]: Invalid user {user} from {ip} port 4{i:04d}"
        )
        lines.append(
            f"Dec  6 11:57:{i % 60:02d} web1 sshd[{pid}]: Failed password for {user} from {ip} port 4 ssh2"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The same command with the C writer's import refused: failures.py then writes with the reference.
_REFERENCE = "import sys; sys.modules['banjail.cli._jsonline'] = None; from banjail.cli.regex import main; sys.exit(main())"


@pytest.mark.parametrize("mode", ["normal", "aggressive"])
def test_the_command_writes_the_reference_bytes(tmp_path: Path, mode: str) -> None:
    sshd = Path("/etc/fail2ban/filter.d/sshd.conf")
    if not sshd.exists():
        pytest.skip("needs upstream's sshd filter")
    log = _log(tmp_path / "auth.log")
    args = ["--json", "--now", "1796583900", str(log), f"{sshd}[mode={mode}]"]
    fast = subprocess.run([REGEX, *args], capture_output=True, timeout=120, check=True)
    slow = subprocess.run(
        [sys.executable, "-c", _REFERENCE, *args], capture_output=True, timeout=120, check=True
    )
    assert fast.stdout == slow.stdout
    assert fast.stdout.count(b"\n") >= len(_USERS) * 3
    assert b'ro\\"ot' in fast.stdout and b"back\\\\slash" in fast.stdout and b"\\u0001ctl" in fast.stdout


def test_every_latin1_character_at_every_place_of_a_word() -> None:
    """The C writer copies eight characters at a time when none of them needs escaping: each of the 256
    Latin-1 characters at each of 17 places of a 24-character text (across three 8-byte words, and the
    part-word tail of a 21-character one) gives the reference's text; 8,704 texts."""
    cases = 0
    for code in range(256):
        for size in (24, 21):
            for at in range(17):
                text = "a" * at + chr(code) + "b" * (size - at - 1)
                f = Failure(text, None, 1.0, (text,), (("user", text),))
                assert _jsonline.encode(f, SET_GROUPS) == json_line(f), (code, size, at)
                cases += 1
    assert cases == 8704
