"""A jail's regexes as upstream's server reports them (`get <jail> failregex|ignoreregex|prefregex` and the
replies of the `set` commands that change them): the regex it compiles, with the tags expanded. Also its
datepattern, as the (pattern, template name) pair upstream reports.

banjail's filter expands the tags to regex text of its own that matches the same addresses; upstream's clients
print the text, and scripts compare it, so the address groups are given upstream's spelling here (observed
from fail2ban 1.0.2's replies, e.g. `(?P<ip4>(?:\\d{1,3}\\.){3}\\d{1,3})`). Only the reply changes: what the
jail matches with is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

from banjail import netaddr
from banjail.filter.datedetect import DateDetector
from banjail.filter.failregex import expand_tags

# (banjail's group text, upstream's text for the same group), for the three groups every address tag is built of.
_SPELLING = (
    ("(?P<ip4>" + netaddr.IPV4_TEXT + ")", r"(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})"),
    ("(?P<ip6>" + netaddr.IPV6_TEXT + ")", r"(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))"),
    ("(?P<dns>" + netaddr.DNS_TEXT + ")", r"(?P<dns>[\w\-.^_]*\w)"),
)


def reported(regex: str, usedns: str) -> str:
    """`regex` (as configured) as upstream reports it: tags expanded for `usedns`, upstream's group spelling."""
    text = expand_tags(regex, usedns)
    for ours, theirs in _SPELLING:
        text = text.replace(ours, theirs)
    return text


def reported_list(regexes: Iterable[str], usedns: str) -> list[str]:
    """Every regex of a list as upstream reports it."""
    return [reported(r, usedns) for r in regexes]


def reported_prefregex(regex: str, usedns: str) -> str:
    """The prefregex as upstream reports it; "" when there is none."""
    return reported(regex, usedns) if regex else ""


# Templates upstream reports by name alone (they have no pattern): epoch seconds and TAI64N stamps.
_UNPATTERNED = ("Epoch", "LongEpoch", "TAI64N")


def reported_datepattern(patterns: tuple[str, ...], logtimezone: str = "") -> tuple[str | None, str]:
    """`get <jail> datepattern`: (None, "Default Detectors") when the patterns select more than two date
    templates (none given, {DEFAULT}, {^LN-BEG}, {DATE}), else the first pattern as given and its template's name
    (`%Y-%m-%d` -> Year-Month-Day); (None, name) for an epoch or TAI64N template; {NONE} as ("{UNB}^", "^")."""
    templates = DateDetector(patterns, logtimezone=logtimezone).templates
    if not templates or len(templates) > 2:
        return None, "Default Detectors"
    name = templates[0].name
    if name.removeprefix("{^LN-BEG}") in _UNPATTERNED:
        return None, name
    first = patterns[0]
    return ("{UNB}^" if first.upper() == "{NONE}" else first), name
