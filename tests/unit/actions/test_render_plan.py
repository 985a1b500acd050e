"""render() over its per-text plan (the text split once at its tags) gives exactly what the earlier render gave,
which sliced the text at every tag on each call: the reference below is that render, kept as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.actions.render import (
    _REFERENCE,
    VERBATIM_TAGS,
    Script,
    _literal,
    _tags_in_context,
    env_name,
    render,
)


def reference(
    text: str, value: Callable[[str], str | None], verbatim: frozenset[str] = VERBATIM_TAGS
) -> Script:
    if "<" not in text:
        return Script(text)
    known: dict[str, str | None] = {}
    names: dict[str, str] = {}
    env: dict[str, str] = {}
    out: list[str] = []
    last = 0
    for start, end, tag, context in _tags_in_context(text):
        if tag not in known:
            known[tag] = value(tag)
        found = known[tag]
        if found is None:
            continue
        found = found.replace("\x00", "")
        out.append(text[last:start])
        last = end
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
    out.append(text[last:])
    return Script("".join(out), env)


TAGS = ["<ip>", "<matches>", "<F-USER>", "<f-user>", "<br>", "<unknown>", "<F_USER>", "<sp>"]
SHELL = [
    "echo ",
    " ",
    "'",
    '"',
    "$(",
    ")",
    "${",
    "}",
    "`",
    "#",
    "\n",
    "<<E\n",
    "E\n",
    "\\",
    "a",
    ";",
    "|",
    "<",
    ">",
]
VALUES = {
    "ip": st.sampled_from(["192.0.2.1", "2001:db8::1", "1.2.3.4 x"]),
    "matches": st.text(max_size=12),
    "F-USER": st.text(alphabet="ab $'\"\\\x00;\n", max_size=8),
    "f-user": st.text(alphabet="ab $'\"", max_size=8),
    "F_USER": st.text(alphabet="ab $", max_size=8),
    "br": st.just("\n"),
    "sp": st.just(" "),
}


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict[str, str | None]]:
    text = "".join(draw(st.lists(st.sampled_from(TAGS + SHELL), max_size=24)))
    values: dict[str, str | None] = {name: draw(strategy) for name, strategy in VALUES.items()}
    for name in draw(st.sets(st.sampled_from(sorted(VALUES)))):
        values[name] = None  # left in place, as a tag render does not know
    return text, values


@settings(max_examples=600, deadline=None)
@given(cases())
def test_render_over_its_plan_is_the_reference(case: tuple[str, dict[str, str | None]]) -> None:
    text, values = case
    assert render(text, values.get) == reference(text, values.get)


@pytest.mark.parametrize(
    ("text", "values", "script"),
    [
        (
            "echo <ip> $(date +%s.%N) >> /f",
            {"ip": "192.0.2.1"},
            Script("echo 192.0.2.1 $(date +%s.%N) >> /f"),
        ),
        ("a <x> b <ip>", {"ip": "1 2"}, Script('a <x> b "${F2B_IP}"', {"F2B_IP": "1 2"})),
        (
            "<ip><ip>'<ip>'",
            {"ip": "a'b"},
            Script('"${F2B_IP}""${F2B_IP}"\'\'"${F2B_IP}"\'\'', {"F2B_IP": "a'b"}),
        ),
        ("no tags", {}, Script("no tags")),
        ("<x>", {}, Script("<x>")),
    ],
)
def test_render_cases(text: str, values: dict[str, str], script: Script) -> None:
    assert render(text, values.get) == script == reference(text, values.get)
