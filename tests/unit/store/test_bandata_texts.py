"""bandata.Texts gives exactly bandata.encode's text for every ban, whatever it kept from the bans before."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.model import Ban
from banjail.store import bandata

LINES = [(), ("l1",), ("l1", "l2"), ("l1", "l2", 'say "hi"')]
GROUPS = [(), (("user", "root"),), (("user", "admin"),), (("user", "root"), ("ip4", "192.0.2.1"))]

bans = st.builds(
    lambda fid, lines, groups, failures, end: Ban("sshd", fid, None, 1e9, 1e9 + end, 1, failures, lines, groups),
    st.sampled_from(["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]),
    st.sampled_from(LINES),
    st.sampled_from(GROUPS),
    st.integers(1, 3),
    st.sampled_from([600, 601.5]),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(bans, st.sampled_from([0, 1, 2, 10])), max_size=30), st.integers(1, 3))
def test_texts_are_encode(sequence: list[tuple[Ban, int]], size: int) -> None:
    texts = bandata.Texts(size)
    for ban, max_matches in sequence:
        assert texts.encode(ban, max_matches) == bandata.encode(ban, max_matches)


def test_a_prolonged_ban_reuses_its_text_and_a_changed_one_does_not() -> None:
    texts = bandata.Texts(2)
    first = Ban("sshd", "192.0.2.1", "192.0.2.1", 1e9, 1e9 + 600, 1, 3, ("l1", "l2"), (("user", "root"),))
    text = texts.encode(first, 10)
    assert text == '{"user": "root", "matches": ["l1", "l2"], "failures": 3}'
    prolonged = dataclasses.replace(first, until=1e9 + 700)
    assert texts.encode(prolonged, 10) is text
    cases = [
        (dataclasses.replace(first, failures=4), '{"user": "root", "matches": ["l1", "l2"], "failures": 4}'),
        (dataclasses.replace(first, lines=("l3",)), '{"user": "root", "matches": ["l3"], "failures": 3}'),
        (dataclasses.replace(first, groups=()), '{"matches": ["l1", "l2"], "failures": 3}'),
    ]
    for ban, expected in cases:
        assert texts.encode(ban, 10) == expected
    assert texts.encode(first, 1) == '{"user": "root", "matches": ["l2"], "failures": 3}'
