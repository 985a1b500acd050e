"""Printing failures one by one instead of the report: upstream's `-o/--out TOKEN` and banjail's `--json`."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Sequence

from banjail.filter.outcome import LineOutcome
from banjail.model import Failure

try:  # the C writer (setup.py builds it when it can); json_line below is the reference and the fallback
    from banjail.cli import _jsonline
except ImportError:  # pragma: no cover - a build without a compiler
    _jsonline = None  # type: ignore[assignment]

Formatter = Callable[[Failure], list[str]]

_TAG = re.compile(r"<([^<>\s]+)>")
# Groups that are sets upstream (the users an <F-MLFID> session tried): a Failure carries one pair per member.
SET_GROUPS = frozenset({"users"})


def group_values(failure: Failure) -> dict[str, str | list[str]]:
    """A failure's groups as a mapping; a set group (`users`) is the list of its members, in the matcher's order
    (sorted), also when it has one member."""
    values: dict[str, str | list[str]] = {}
    for key, value in failure.groups:
        if key in SET_GROUPS:
            members = values.setdefault(key, [])
            assert isinstance(members, list)
            members.append(value)
        else:
            values[key] = value
    return values


def _literal(value: str | list[str]) -> str:
    # A set group is written as upstream's Python set literal ({'root', 'sudoer'}), its members in a fixed order.
    if isinstance(value, list):
        return "{" + ", ".join(repr(v) for v in value) + "}"
    return repr(value)


def json_line(failure: Failure) -> str:
    """One JSON object on one line: line (1-based number of the line that completed the failure), id, ip, time
    (epoch seconds), groups (name -> text; `users` -> list of names) and matches (the log lines of the failure)."""
    return json.dumps(
        {
            "line": failure.lineno,
            "id": failure.fid,
            "ip": failure.ip,
            "time": failure.time,
            "groups": group_values(failure),
            "matches": list(failure.lines),
        },
        ensure_ascii=False,
    )


def json_writer() -> Callable[[Failure], str]:
    """The fastest writer of json_line's text: the C one when it is built, else json_line. Both return the same
    str for every Failure; the C writer hands a failure whose field types it does not write to json_line."""
    if _jsonline is None:
        return json_line
    encode = _jsonline.encode

    def line(failure: Failure) -> str:
        try:
            return encode(failure, SET_GROUPS)
        except TypeError:
            return json_line(failure)

    return line


def json_lines(outcomes: Sequence[LineOutcome]) -> str:
    """The json_line of every failure of `outcomes`, in order, joined by newlines ("" when there is none): the C
    writer's in one call when it is built and takes them all, else json_writer's line by line."""
    if _jsonline is not None:
        try:
            return _jsonline.encode_outcomes(outcomes, SET_GROUPS)
        except TypeError:
            pass
    line = json_writer()
    return "\n".join([line(failure) for outcome in outcomes for failure in outcome.failures])


# The tags of an `-o` template that name something of the failure itself, as upstream's ActionInfo knows them (the
# counters of a ban, which fail2ban-regex never makes, are 0); any other tag but <F-NAME> stays as written.
_COUNTERS = frozenset({"failures", "bancount", "restored"})
_SPACING = {"br": "\n", "sp": " "}
# <F-NAME> (upper case only, as upstream): the failure's group of that name, empty when it has none.
_GROUP_TAG = re.compile(r"<F-([A-Z0-9_\-]+)>")
_GROUP_ALIAS = {"id": "fid", "port": "fport"}


def _family(fid: str) -> str:
    try:
        network = ipaddress.ip_network(fid, strict=False) if "/" in fid else ipaddress.ip_address(fid)
    except ValueError:
        return "None"
    return f"inet{network.version}"


def _tag_value(failure: Failure, name: str, time: str) -> str | None:
    """The value of one `<tag>` of an `-o` template (not <F-NAME>), None for a tag left as written."""
    if name in ("ip", "fid"):
        return failure.fid  # upstream's ticket is made of the failure id: <ip> is that id too
    if name == "time":
        return time
    if name in ("matches", "msg"):
        return "\n".join(failure.lines)
    if name == "family":
        return _family(failure.fid)
    if name in _COUNTERS:
        return "0"
    return _SPACING.get(name)


def _group_value(failure: Failure, tag: re.Match[str]) -> str:
    name = tag.group(1).lower()
    name = _GROUP_ALIAS.get(name, name)
    if name in SET_GROUPS:
        members = group_values(failure).get(name)
        return "" if members is None else _literal(members)
    value = failure.group(name)
    return "" if value is None else value


def _substitute(fmt: str, failure: Failure, time: str) -> str:
    def value_or_tag(tag: re.Match[str]) -> str:
        value = _tag_value(failure, tag.group(1), time)
        return tag.group(0) if value is None else value

    return _GROUP_TAG.sub(lambda tag: _group_value(failure, tag), _TAG.sub(value_or_tag, fmt))


TemplateRender = Callable[[Failure, str], list[str]]


def render_template(fmt: str) -> TemplateRender:
    """The printer of an `-o` template: (failure, the text of its <time>) -> output rows."""
    has_msg = "<msg>" in fmt

    def render(failure: Failure, time: str) -> list[str]:
        # A multi-line <msg> is printed as one output row per matched line, as upstream does.
        if has_msg and len(failure.lines) > 1:
            return [
                _substitute(fmt, Failure(failure.fid, failure.ip, failure.time, (line,), failure.groups), time)
                for line in failure.lines
            ]
        return [_substitute(fmt, failure, time)]

    return render


def formatter(token: str) -> Formatter:
    """The printer for `-o TOKEN`: `id`/`fid` the failure id, `ip` the address (else the id), `msg` every matched
    line, a group name its value (`None` when absent), or a template with <tags>. (`row`, `matches` and templates
    with <time> print from the matcher's records: banjail.cli.records.)"""
    if token in ("id", "fid"):
        return lambda f: [f.fid]
    if token == "ip":
        return lambda f: [f.ip if f.ip is not None else f.fid]
    if token == "msg":
        return lambda f: list(f.lines)
    # a name is looked up as written, as upstream does (`-o USER` is None: the group of <F-USER> is `user`)
    if token in SET_GROUPS:
        # upstream prints None for a failure without the set (no <F-MLFID> session, or no user in it)
        return lambda f: [_literal(v) if (v := group_values(f).get(token)) is not None else "None"]
    if "<" not in token:
        return lambda f: [str(f.group(token))]
    render = render_template(token)
    return lambda f: render(f, repr(f.time))
