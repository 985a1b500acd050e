"""The parse tree of a compiled regex (re._parser's, private since 3.11), made once per pattern text and flags.

Three readers walk the same trees of a filter's regexes when it is compiled: the prefilter (required literals,
first characters, whether a prefregex matches any text), and the translator to PCRE2 (the native engine), each
failregex two or three times; parsing them once takes about a quarter of the parses off fail2ban-regex's start.
The readers only read a tree (a SubPattern and the tuples and lists inside it), never change it: that is the
invariant the sharing rests on. re.compile keeps its own parse, which it does not expose.
"""

from __future__ import annotations

import functools
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any


@functools.lru_cache(maxsize=512)
def parsed(pattern: str, flags: int) -> Any:
    """re._parser.parse(pattern, flags), shared between callers (read it, never change it); raises re.error as
    parse does (not cached then)."""
    return _p.parse(pattern, flags)
