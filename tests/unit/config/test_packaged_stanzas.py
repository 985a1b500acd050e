"""conffiles finds fail2ban's stanza without splitting the whole dpkg status: the same result as splitting it
(the reference below, the function as it was), on generated status texts, windows outgrown included."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from banjail.config import packaged

MD5 = "0123456789abcdef0123456789abcdef"


def reference(status: str, package: str) -> dict[str, str]:
    # the former reading: split the whole text into stanzas, read each (one stanza is read as it always was)
    found: dict[str, str] = {}
    for stanza in re.split(r"\n\s*\n", status):
        found.update(packaged.conffiles(stanza, package))
    return found


LINES = st.sampled_from(
    [
        "Package: fail2ban",
        "Package: fail2ban-extra",
        "\tPackage: fail2ban",
        "Package: other",
        "Conffiles:",
        f" /etc/fail2ban/filter.d/a.conf {MD5}",
        f" /etc/fail2ban/jail.conf {MD5} obsolete",
        " /etc/other newconffile",
        "Status: install ok installed",
        " ",
        "\r",
        "\x85",
        "\u2028",
        "x" * 5000,  # longer than a window: the search for a stanza's ends grows
        " " * 3000 + "x",
    ]
)
# between stanzas: separators of every shape, and a lone line end (no separator)
SEPARATORS = st.sampled_from(
    ["\n\n", "\n \n", "\n\t\x0b\n", "\n\n\n", "\n" + " " * 5000 + "\n", "\n", " \n\n "]
)
STANZAS = st.lists(st.lists(LINES, min_size=1, max_size=6).map("\n".join), max_size=6)


@settings(max_examples=500, deadline=None)
# another package's conffiles in the stanza just before fail2ban's, and one more stanza before those
@example(
    [
        "Package: a",
        f"Package: other\nConffiles:\n /etc/fail2ban/x.conf {MD5}",
        "Package: fail2ban\nConffiles:",
    ],
    ["\n\n", "\n \n", "\n", "\n", "\n", "\n"],
    "fail2ban",
)
@given(
    STANZAS,
    st.lists(SEPARATORS, min_size=6, max_size=6),
    st.sampled_from(["fail2ban", "other", "", "fail2ban "]),
)
def test_conffiles_equal_the_whole_split(stanzas: list[str], separators: list[str], package: str) -> None:
    status = "".join(stanza + separator for stanza, separator in zip(stanzas, separators, strict=False))
    assert packaged.conffiles(status, package) == reference(status, package)
