"""banjail.fleet.notice: the canonical encoding, the signature, and what a subscriber refuses."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banjail.fleet.notice import (
    SIGNED,
    Notice,
    NoticeError,
    ban_notice,
    canonical,
    decode,
    encode,
    unban_notice,
)

KEY = b"k" * 32
BAN = ban_notice("sshd", "192.0.2.7", 1000.0, 1600.0, 2, "web1", "sshd, 5 failures", 1000.25)


def test_canonical_encoding_is_the_documented_bytes() -> None:
    entry = encode(BAN, KEY)
    assert canonical(entry) == (
        b"banjail-fleet\x00v=1\nkind=ban\njail=sshd\ntarget=192.0.2.7\nstart=1000.000\nend=1600.000\ncount=2\n"
        b"origin=web1\nreason=sshd, 5 failures\nsent=1000.250\n"
    )
    assert entry["sig"] == hmac.new(KEY, canonical(entry), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "notice",
    [
        BAN,
        ban_notice("sshd", "192.0.2.7", 1000.0, None, 1, "web1", "manual", 1000.0),
        ban_notice("recidive", "2001:db8::/64", 5.5, 6.5, 1, "h-2.example", "x", 5.5),
        unban_notice("sshd", "192.0.2.7", "web1", 2000.0),
    ],
)
def test_a_signed_notice_decodes_to_itself(notice: Notice) -> None:
    assert decode(encode(notice, KEY), KEY) == notice


@given(field=st.sampled_from(SIGNED), text=st.text(min_size=1, max_size=20))
def test_any_change_to_a_signed_field_is_refused(field: str, text: str) -> None:
    entry = encode(BAN, KEY)
    if entry[field] == text:
        return
    entry[field] = text
    with pytest.raises(NoticeError) as caught:
        decode(entry, KEY)
    assert str(caught.value).split(":")[0] in ("signature", "malformed")


@given(key=st.binary(min_size=16, max_size=64))
def test_another_key_is_refused(key: bytes) -> None:
    if key == KEY:
        return
    with pytest.raises(NoticeError, match=r"^signature: does not verify with this host's key$"):
        decode(encode(BAN, key), KEY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": "2"}, "malformed: version '2', this host reads 1"),
        ({"kind": "ban!"}, "malformed: kind 'ban!'"),
        ({"target": "not-an-ip"}, "malformed: target 'not-an-ip' is not an address or a network"),
        ({"target": "$(reboot)"}, "malformed: target '$(reboot)' is not an address or a network"),
        ({"jail": "a b"}, "malformed: jail 'a b'"),
        ({"origin": ""}, "malformed: origin ''"),
        ({"end": "soon"}, "malformed: could not convert string to float: 'soon'"),
        ({"reason": "two\nlines"}, "malformed: field reason holds a newline or NUL"),
    ],
)
def test_malformed_notices_signed_with_the_right_key_are_refused(
    change: dict[str, str], message: str
) -> None:
    from banjail.fleet.notice import sign

    entry = {k: v for k, v in encode(BAN, KEY).items() if k != "sig"}
    entry.update(change)
    try:
        entry["sig"] = sign(entry, KEY)
    except NoticeError:
        entry["sig"] = "0" * 64
    with pytest.raises(NoticeError) as caught:
        decode(entry, KEY)
    assert str(caught.value) == message


def test_reason_is_cleaned_of_unprintable_text() -> None:
    notice = ban_notice("sshd", "192.0.2.7", 1.0, 2.0, 1, "h", "bad\nline\x00" + "x" * 300, 1.0)
    assert notice.reason == "bad?line?" + "x" * 191
    assert decode(encode(notice, KEY), KEY).reason == notice.reason
