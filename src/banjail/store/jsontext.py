"""The JSON text the store writes for failure groups and ban data, without json.dumps's cost per call.

`json.dumps(value, ensure_ascii=False)` builds a new JSONEncoder on every call (its keyword arguments differ
from the default encoder's): about 3 us for a failure's five groups, paid for every counted failure a flood
stores. The values the store writes are plain (strings, ints, lists of strings, pairs of strings), and a string
that holds no quote, backslash or control character is written by json as itself between quotes; those are
built here directly. Anything else (a string that needs an escape, a float, a bool, None, another type) goes to
json.dumps. Guarantee: every function returns exactly json.dumps(value, ensure_ascii=False).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

# What json escapes with ensure_ascii=False (json.encoder.ESCAPE): control characters, `"` and `\`.
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


def pairs(groups: Sequence[tuple[str, str]]) -> str:
    """json.dumps(groups, ensure_ascii=False) of (key, value) string pairs (a failure's groups)."""
    try:
        joined = "".join([key + value for key, value in groups])
    except TypeError:  # not str pairs: json decides
        return json.dumps(groups, ensure_ascii=False)
    if _ESCAPED.search(joined) is not None:
        return json.dumps(groups, ensure_ascii=False)
    return "[" + ", ".join([f'["{key}", "{value}"]' for key, value in groups]) + "]"


def mapping(data: Mapping[str, object]) -> str:
    """json.dumps(data, ensure_ascii=False) of a dict of strings, ints and lists of strings (a ban's data)."""
    parts: list[str] = []
    texts: list[str] = []
    for key, value in data.items():
        if type(key) is not str:
            return json.dumps(data, ensure_ascii=False)
        texts.append(key)
        if type(value) is str:
            texts.append(value)
            parts.append(f'"{key}": "{value}"')
        elif type(value) is int:
            parts.append(f'"{key}": {value}')
        elif type(value) is list and all(type(item) is str for item in value):
            texts.extend(value)
            parts.append(f'"{key}": [' + ", ".join([f'"{item}"' for item in value]) + "]")
        else:
            return json.dumps(data, ensure_ascii=False)
    if _ESCAPED.search("".join(texts)) is not None:
        return json.dumps(data, ensure_ascii=False)
    return "{" + ", ".join(parts) + "}"
