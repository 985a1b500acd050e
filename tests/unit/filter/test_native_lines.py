"""banjail.filter._native.Rows (its lines, longest and after) against the Python expressions they replace in banjail.filter.native and
banjail.filter.uniform (chunk.split("\\n")[:-1], max(map(len, rows)), sum(map(operator.lt, ends, map(len, rows)))),
on generated chunks, and their errors."""

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
def test_rows_and_after_equal_the_python_expressions(rows: list[str], data: st.DataObject) -> None:
    chunk = "".join(row + "\n" for row in rows)
    ends = [data.draw(st.integers(0, len(row) + 1)) for row in rows]
    lines = _native.Rows(chunk)
    assert len(lines) == len(rows)
    assert list(lines) == rows == chunk.split("\n")[:-1]
    assert [lines[i] for i in range(-len(rows), len(rows))] == rows + rows
    assert lines.longest == max(map(len, rows))
    assert lines.after(ends) == sum(map(operator.lt, ends, map(len, rows)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: _native.Rows("a\nb"), ValueError, "Rows takes ASCII lines, each ending with a newline"),
        (lambda: _native.Rows(""), ValueError, "Rows takes ASCII lines, each ending with a newline"),
        (lambda: _native.Rows("é\n"), ValueError, "Rows takes ASCII lines, each ending with a newline"),
        (lambda: _native.Rows(b"a\n"), TypeError, "argument 1 must be str, not bytes"),
        (lambda: _native.Rows("a\n")[1], IndexError, "Rows index out of range"),
        (lambda: _native.Rows("a\n")[-2], IndexError, "Rows index out of range"),
        (lambda: _native.Rows("a\nb\n").after([0]), ValueError, "ends: a list, one per line"),
        (lambda: _native.Rows("a\n").after([0, 1]), ValueError, "ends: a list, one per line"),
        (lambda: _native.Rows("a\n").after((0,)), ValueError, "ends: a list, one per line"),
        (lambda: _native.Rows("a\n").after(["x"]), TypeError, "an integer is required"),
        (lambda: _native.Rows.__new__(_native.Rows).after([]), RuntimeError, "Rows not initialised"),
    ],
)
def test_bad_input_is_refused(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]
