"""banjail.filter._native.longest and .after against the Python expressions they replace in banjail.filter.uniform
(max(map(len, rows)) and sum(map(operator.lt, ends, map(len, rows)))), on generated chunks, and their errors."""

from __future__ import annotations

import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import native

pytestmark = pytest.mark.skipif(not native.built(), reason="the C extension is not built")
_native = native._native

_rows = st.lists(st.text(st.characters(min_codepoint=0, max_codepoint=127, blacklist_characters="\n"), max_size=40),
                 min_size=1, max_size=30)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(_rows, st.data())
def test_longest_and_after_equal_the_python_expressions(rows: list[str], data: st.DataObject) -> None:
    chunk = "".join(row + "\n" for row in rows)
    ends = [data.draw(st.integers(0, len(row) + 1)) for row in rows]
    assert _native.longest(chunk) == max(map(len, rows))
    assert _native.after(chunk, ends) == sum(map(operator.lt, ends, map(len, rows)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: _native.longest("a\nb"), ValueError, "complete lines, each ending with a newline"),
        (lambda: _native.longest(""), ValueError, "complete lines, each ending with a newline"),
        (lambda: _native.longest("é\n"), TypeError, "an ASCII str"),
        (lambda: _native.after("a\nb\n", [0]), ValueError, "ends: one per line"),
        (lambda: _native.after("a\n", [0, 1]), ValueError, "ends: one per line"),
        (lambda: _native.after("a\n", ["x"]), TypeError, "an integer is required"),
    ],
)
def test_bad_input_is_refused(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]
