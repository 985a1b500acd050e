"""The JSON text the store writes for failure groups and ban data, without json.dumps's cost per call.

`json.dumps(value, ensure_ascii=False)` builds a new JSONEncoder on every call (its keyword arguments differ
from the default encoder's): about 3 us for a failure's five groups, paid for every counted failure a flood
stores. The values the store writes are plain (strings, ints, lists of strings, pairs of strings): each string
is written by json's own string encoder (json.encoder.encode_basestring, the C function json.dumps calls for a
string with ensure_ascii=False; it quotes and escapes in one pass, where a regex test of the text first cost
a flood's commits a tenth of their instructions), each int as its repr, with json's separators between.
Anything else (a float, a bool, None, another type, a non-str key) goes to json.dumps.
Guarantee: every function returns exactly json.dumps(value, ensure_ascii=False).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring

_quote = encode_basestring  # str -> its JSON text, quotes included (ensure_ascii=False)


def pairs(groups: Sequence[tuple[str, str]]) -> str:
    """json.dumps(groups, ensure_ascii=False) of (key, value) string pairs (a failure's groups)."""
    quote = _quote
    try:
        return "[" + ", ".join([f"[{quote(key)}, {quote(value)}]" for key, value in groups]) + "]"
    except (TypeError, ValueError):  # not str pairs: json decides (and raises what json.dumps raises)
        return json.dumps(groups, ensure_ascii=False)


def mapping(data: Mapping[str, object]) -> str:
    """json.dumps(data, ensure_ascii=False) of a dict of strings, ints and lists of strings (a ban's data)."""
    quote = _quote
    parts: list[str] = []
    for key, value in data.items():
        if type(key) is not str:
            return json.dumps(data, ensure_ascii=False)
        if type(value) is str:
            parts.append(f"{quote(key)}: {quote(value)}")
        elif type(value) is int:
            parts.append(f"{quote(key)}: {value!r}")
        elif type(value) is list and all(type(item) is str for item in value):
            parts.append(f"{quote(key)}: [{', '.join(map(quote, value))}]")
        else:
            return json.dumps(data, ensure_ascii=False)
    return "{" + ", ".join(parts) + "}"
