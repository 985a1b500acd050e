"""How deeply a request nests: JSON text is measured before it is parsed (json.loads recurses once per level and
raises RecursionError past about a thousand), a decoded value by an iterative walk. Upstream's deepest command
(a reload stream: a list of lists of strings) nests three levels; MAX_DEPTH leaves room for banjail's own."""

from __future__ import annotations

import re
from itertools import accumulate

MAX_DEPTH = 32  # containers inside one another in one request

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)  # an unterminated string runs to the end (malformed)
_OTHERS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def json_depth(text: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (brackets inside strings do not count); linear in
    the length and without recursion, so any text up to the request limit is measured in milliseconds."""
    brackets = _STRING.sub(b"", text).translate(None, _OTHERS)
    if not brackets:
        return 0
    return max(accumulate(map(_STEP.__getitem__, brackets)))


TOO_DEEP = f"request nested more than {MAX_DEPTH} levels deep (arrays and objects inside one another)"
