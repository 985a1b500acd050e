"""banjail.digest.md5_hex gives hashlib's digest (a stored position's first-line hash must not change)."""

from __future__ import annotations

import hashlib

import pytest

from banjail.digest import md5_hex


@pytest.mark.parametrize(
    "data",
    [b"", b"a", b"Dec  7 10:42:41 web1 sshd[3975]: Invalid user ftpuser from 61.71.177.36 port 49699", bytes(range(256)) * 300],
)
def test_md5_hex_is_hashlibs(data: bytes) -> None:
    assert md5_hex(data) == hashlib.md5(data).hexdigest()


def test_md5_hex_of_empty_line() -> None:
    assert md5_hex(b"") == "d41d8cd98f00b204e9800998ecf8427e"
