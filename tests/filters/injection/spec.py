"""The spec format of the log-injection generator: what a service writes, which parts of it the remote party
chooses, and how the service and the log transport escape those parts.

One module per stock filter, `services/<filter>.py`, defines `SERVICE = Service(...)`. The generator
(`generate.py`) renders every template of it, once per attacker-controlled field and payload, exactly as the
service would write it for a client at the ATTACKER's address whose field carries a payload naming a VICTIM.

Template text is the service's message with placeholders in braces, replaced once (a payload's own braces are
never read as placeholders):

    {A}      the connecting client's address as the service writes it (the attacker's)
    {port}   a client port            {pid}  the process id (one per case: sessions never merge across cases)
    {sess}   a server-made session/queue id
    {clf}    the date as "25/Nov/2026:08:44:15 +0000"   {apache} "Wed Nov 25 08:44:15.123456 2026"
    {iso}    "2026-11-25T08:44:15Z"   {ngx} "2026/11/25 08:44:15"   {syslog} "Nov 25 08:44:15"
    {name}   a field: the payload when the generator attacks it, else its `default`

A line is prefix + message: `Prefix.render(daemon, pid)` (empty for services that write their own files), and
`Prefix.transport` is the syslog daemon's escaping of the whole message (rsyslog: controls as #ooo; journald:
raw bytes). `Field.escape` is the service's own escaping of the raw bytes the client sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Escape = Callable[[str], str]


def raw(text: str) -> str:
    """No escaping: the bytes are written as received."""
    return text


@dataclass(frozen=True)
class Field:
    """A part of a line that the remote party chooses."""

    name: str  # placeholder name in the template text
    escape: Escape  # the service's escaping of what the client sent
    default: str = "x"  # the value when another field is attacked, and in the control line
    what: str = ""  # what it is: "user name", "URL", "HELO", ...


@dataclass(frozen=True)
class Template:
    """One line shape of the service."""

    name: str
    text: str  # the message after the prefix, with placeholders
    fields: tuple[Field, ...]
    # option sets (filter arguments) under which the control line must give a failure of the attacker; () =
    # the line is never a failure on its own (a helper that only names the address of its session)
    fails_under: tuple[dict[str, str], ...] = ({},)
    # other lines of the same session (same {pid}/{sess}), written before / after this one, unattacked
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    ipv6: bool = True  # False: the service only writes IPv4 client addresses here


@dataclass(frozen=True)
class Prefix:
    """How a line reaches the log file."""

    name: str
    render: Callable[[str, int], str]  # (daemon, pid) -> the text before the message
    transport: Escape = raw  # the log daemon's escaping of the whole message


@dataclass(frozen=True)
class Service:
    """A stock filter's service: its templates and the filter arguments to run them under."""

    filter: str  # the stock filter's name
    daemon: str  # the program tag syslog writes
    prefixes: tuple[Prefix, ...]
    templates: tuple[Template, ...]
    option_sets: tuple[dict[str, str], ...] = ({},)  # each is run over every generated line
    notes: str = ""  # what the spec leaves out, and why
    controls: str = field(default="")  # the raw control characters the service writes unescaped, if any


# ---- escaping functions of real services -----------------------------------------------------------------------

def _octal(ch: str) -> str:
    return "".join(f"\\{b:03o}" for b in ch.encode("utf-8"))


def strnvis(text: str) -> str:
    """OpenSSH log.c: strnvis(VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL) over the message. Printable ASCII (spaces,
    ':' and ',' included) stays; '\\' doubles; \\n \\r \\t as C escapes; every other byte (controls, UTF-8)
    as \\ooo."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(_octal(ch))
    return "".join(out)


def question(text: str) -> str:
    """dovecot str_sanitize(), vsftpd vsf_sysutil_, postfix printable(): every control byte becomes '?'; UTF-8
    stays."""
    return "".join("?" if ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0 else ch for ch in text)


def hex_escape(text: str, *, quote: bool = True) -> str:
    """Apache ap_escape_logitem / nginx access log: '"' and '\\' backslashed, controls and bytes >= 0x7f as
    \\xHH."""
    out = []
    for ch in text:
        if (quote and ch == '"') or ch == "\\":
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def no_space(text: str) -> str:
    """Fields a protocol cannot carry a space (or control) in: an HTTP request target, a DNS name, a HELO
    parameter token. What a client sends is cut at the first space by the protocol parser."""
    return "".join(ch for ch in text.split(" ")[0] if ord(ch) > 0x20)


def json_string(text: str) -> str:
    """A JSON string body (Go encoding/json, traefik, vaultwarden): '"' '\\' and controls escaped, U+2028/9 as
    \\u2028 (Go escapes them), other text raw."""
    import json

    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def rsyslog(text: str) -> str:
    """rsyslog's EscapeControlCharactersOnReceive: bytes < 0x20 and 0x7f as #ooo; UTF-8 passes raw (so U+0085,
    U+2028, U+2029 reach the file unescaped)."""
    return "".join(f"#{ord(ch):03o}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


def journald(text: str) -> str:
    """journald keeps raw bytes; banjail's journal source writes "\\n" inside a message as the two characters
    \\n (a raw newline would end the line in a file written from the journal)."""
    return text.replace("\n", "\\n")


# ---- prefixes ---------------------------------------------------------------------------------------------------

def _syslog(daemon: str, pid: int) -> str:
    return f"Nov 25 08:44:15 web1 {daemon}[{pid}]: "


def _iso(daemon: str, pid: int) -> str:
    return f"2026-11-25T08:44:15.921753+00:00 web1 {daemon}[{pid}]: "


def _bare(daemon: str, pid: int) -> str:
    return ""


SYSLOG = Prefix("syslog", _syslog, rsyslog)
ISO = Prefix("iso", _iso, rsyslog)
JOURNAL = Prefix("journal", _syslog, journald)  # journalctl -o short / a journal-written file: raw bytes
BARE = Prefix("bare", _bare, raw)  # the service writes its own file (apache, nginx, gitea, ...)
SYSLOG_FORMS = (SYSLOG, ISO, JOURNAL)

# The addresses the generator uses: documentation ranges only (RFC 5737 / RFC 3849).
ATTACKER4 = "203.0.113.66"
ATTACKER6 = "2001:db8:a77::66"
VICTIMS = ("198.51.100.7", "::ffff:198.51.100.7", "2001:db8:dead::7")
# What a failure id may not contain: each victim in its address and reverse-DNS spellings.
VICTIM_MARKS = ("198.51.100.7", "198-51-100-7", "7.100.51.198", "2001:db8:dead", "2001-db8-dead", "dead::7")
