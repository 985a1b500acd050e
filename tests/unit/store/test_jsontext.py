"""jsontext writes exactly json.dumps(value, ensure_ascii=False), for plain and hostile values alike."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.store import jsontext

# Every character class json treats apart, and some it does not: the generator mixes them into keys and values.
ALPHABET = ["a", "Z", "0", " ", ":", "[", "]", "{", "}", ",", '"', "\\", "/", "\x00", "\x1f", "\n", "\t", "\r",
            "\x7f", "é", "€", "\u2028", "😀", "'"]  # fmt: skip


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 6)))


PAIRS = [
    (),
    (("user", "root"),),
    (("mlfid", " web1 sshd[99]: "), ("method", "password"), ("user", "root"), ("ip4", "10.0.48.0")),
    (("user", 'a"b'),),
    (("user", "a\\b"),),
    (("user", "tab\there"),),
    (("us\ner", "x"),),
    (("user", "naïve €"),),
    (("user", ""),),
    (("k", 1),),  # not a str pair: json decides
]


@pytest.mark.parametrize("groups", PAIRS)
def test_pairs_is_json(groups: tuple[tuple[str, str], ...]) -> None:
    assert jsontext.pairs(groups) == json.dumps(groups, ensure_ascii=False)


MAPPINGS = [
    {},
    {"failures": 3},
    {"user": "root", "matches": ["line one", "line two"], "failures": 2},
    {"matches": [], "failures": 0},
    {"user": 'say "hi"', "failures": 1},
    {"user": "x", "matches": ["a\\b"], "failures": 1},
    {"flag": True},
    {"rate": 1.5},
    {"none": None},
    {"matches": ["ok", 3]},
    {"matches": ("tuple", "is json's list")},
    {"nested": {"a": "b"}},
    {"big": -(10**30)},
]


@pytest.mark.parametrize("data", MAPPINGS)
def test_mapping_is_json(data: dict[str, object]) -> None:
    assert jsontext.mapping(data) == json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize("seed", range(20))
def test_generated_values_are_json(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        groups = tuple((_text(rng), _text(rng)) for _ in range(rng.randrange(0, 5)))
        assert jsontext.pairs(groups) == json.dumps(groups, ensure_ascii=False)
        data: dict[str, object] = dict(groups)
        data["matches"] = [_text(rng) for _ in range(rng.randrange(0, 4))]
        data["failures"] = rng.randrange(-5, 10**6)
        assert jsontext.mapping(data) == json.dumps(data, ensure_ascii=False)


# Any unicode text (control characters, quotes, backslashes, surrogates, astral planes), and values json treats
# apart from plain strings: both functions must still write exactly what json.dumps writes.
texts = st.text(max_size=12)
odd_values = st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.tuples(texts, texts), st.tuples(texts, odd_values), st.tuples(texts)), max_size=6))
def test_pairs_is_json_for_any_pairs(groups: list[tuple[object, ...]]) -> None:
    assert jsontext.pairs(groups) == json.dumps(groups, ensure_ascii=False)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(
        st.one_of(texts, st.integers(), st.booleans()),
        st.one_of(texts, st.integers(), st.lists(texts, max_size=4), odd_values, st.lists(odd_values, max_size=2)),
        max_size=6,
    )
)
def test_mapping_is_json_for_any_mapping(data: dict[str, object]) -> None:
    assert jsontext.mapping(data) == json.dumps(data, ensure_ascii=False)
