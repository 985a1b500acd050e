"""conffiles finds fail2ban's stanza without splitting the whole dpkg status: the same result as splitting it
(the reference below, the function as it was), on generated status texts, windows outgrown included."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.config import packaged

MD5 = "0123456789abcdef0123456789abcdef"
_FLAGS = frozenset({"obsolete", "remove-on-upgrade"})


def reference(status: str, package: str = "fail2ban", root: str = "/etc/fail2ban/") -> dict[str, str]:
    found: dict[str, str] = {}
    for stanza in re.split(r"\n\s*\n", status):
        lines = stanza.splitlines()
        if not any(line.strip() == f"Package: {package}" for line in lines if not line.startswith(" ")):
            continue
        inside = False
        for line in lines:
            if not line.startswith((" ", "\t")):
                inside = line.startswith("Conffiles:")
                continue
            if not inside:
                continue
            words = line.split()
            while words and words[-1] in _FLAGS:
                words.pop()
            if len(words) < 2 or not re.fullmatch(r"[0-9a-f]{32}", words[-1]):
                continue
            path = " ".join(words[:-1])
            if path.startswith(root):
                found[path[len(root) :]] = words[-1]
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
@given(
    STANZAS,
    st.lists(SEPARATORS, min_size=6, max_size=6),
    st.sampled_from(["fail2ban", "other", "", "fail2ban "]),
)
def test_conffiles_equal_the_whole_split(stanzas: list[str], separators: list[str], package: str) -> None:
    status = "".join(stanza + separator for stanza, separator in zip(stanzas, separators, strict=False))
    assert packaged.conffiles(status, package) == reference(status, package)
