"""MD5 hex digests (the first-line hash of a log position, dpkg's record of a packaged file), not for security.

CPython's own MD5 module is used when the build has it: hashlib's would map OpenSSL's libcrypto into the daemon,
about 3.4 MB of resident memory for one hash of a short line now and then.
"""

from __future__ import annotations

try:
    from _md5 import md5 as _md5  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a build without it
    from hashlib import md5 as _md5


def md5_hex(data: bytes) -> str:
    """The MD5 of `data` as 32 lower-case hex digits (the same as hashlib.md5(data).hexdigest())."""
    return str(_md5(data, usedforsecurity=False).hexdigest())
